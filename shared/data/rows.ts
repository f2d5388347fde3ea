import * as z from 'zod';
import { decodeCursor, encodeCursor } from '#shared/core/cursor';
import { parsePart } from '#shared/core/validation';
import { type ColumnInfo, readTable, type TableInfo, tableMetadata } from '#shared/data/catalog';
import { type ColumnType, castSql, toParam, valueFromText, valueSchema } from '#shared/data/column-types';
import { identifierProblem, quoted } from '#shared/data/identifiers';
import { openTenantDatabase, type TenantDataDeps } from '#shared/data/tenant-database';
import { BadRequest, Conflict, NotFound, ValidationFailed } from '#shared/errors';
import {
  SqlConstraintViolation,
  type SqlParams,
  type SqlRow,
  type SqlRunner,
  sqlFailureOf,
} from '#shared/ports/sql';

/**
 * Rows of a tenant's table. Every write is checked by a zod schema built from the table's columns
 * (from the catalog, cached a few seconds); every value is a parameter with an explicit cast;
 * every identifier is a column the catalog listed, quoted.
 */

/** Rows in a page stop once their JSON passes this many bytes (the Data API answers ≤ 1 MiB). */
export const MAX_PAGE_BYTES = 512 * 1024;
export const MAX_FILTERS = 20;
export const MAX_IN_VALUES = 100;

export const FILTER_OPERATORS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'like', 'is_null'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];
const COMPARISON: Record<string, string> = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' };

export const FILTER_KEY = /^filter\[([^\]]{1,128})\]\[([a-z_]{1,16})\]$/;

/** `GET …/rows` query: limit, cursor, sort, and any number of `filter[column][operator]`. */
export const rowsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(16_384).optional(),
    sort: z
      .string()
      .regex(/^-?[a-z][a-z0-9_]{0,62}$/, 'a column name, with - in front for descending')
      .optional(),
  })
  .catchall(z.string().max(4096))
  .superRefine((query, ctx) => {
    const filters = Object.keys(query).filter((key) => !['limit', 'cursor', 'sort'].includes(key));
    for (const key of filters) {
      if (!FILTER_KEY.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'unknown query parameter (filters are filter[column][operator])',
        });
      }
    }
    if (filters.length > MAX_FILTERS)
      ctx.addIssue({ code: 'custom', path: [], message: `at most ${MAX_FILTERS} filters` });
  });
export type RowsQuery = z.output<typeof rowsQuerySchema>;

export const rowIdSchema = z.uuid({ message: 'not a row id' });

type Detail = { location: 'query' | 'body'; path: string; code: string; message: string };
function invalid(location: Detail['location'], details: Detail[]): never {
  throw new ValidationFailed(`Invalid ${location}: ${details.map((d) => d.path).join(', ')}`, { details });
}

// ---------------------------------------------------------------------------------------------
// Metadata and write schemas
// ---------------------------------------------------------------------------------------------

async function tableOf(sql: SqlRunner, databaseId: string, table: string): Promise<TableInfo> {
  if (identifierProblem(table, 'table') !== null) throw new NotFound('Table not found');
  const info = await tableMetadata.get(databaseId, table, () => readTable(sql, table));
  if (!info) throw new NotFound('Table not found');
  return info;
}

const writeSchemas = new WeakMap<TableInfo, { insert: z.ZodType; patch: z.ZodType }>();

/** The insert and patch schemas of a table, made once per description. */
export function writeSchemasOf(table: TableInfo) {
  const cached = writeSchemas.get(table);
  if (cached) return cached;
  const insertShape: Record<string, z.ZodType> = {};
  const patchShape: Record<string, z.ZodType> = {};
  for (const column of table.columns.filter((c) => !c.system)) {
    const value = valueSchema(column.type);
    const nullable = column.nullable ? value.nullable() : value;
    insertShape[column.name] = column.nullable || column.hasDefault ? nullable.optional() : nullable;
    patchShape[column.name] = nullable.optional();
  }
  const schemas = {
    insert: z.strictObject(insertShape),
    patch: z
      .strictObject(patchShape)
      .refine((patch) => Object.keys(patch).length > 0, { message: 'nothing to change' }),
  };
  writeSchemas.set(table, schemas);
  return schemas;
}

const selectList = (table: TableInfo) => table.columns.map((c) => quoted(c.name)).join(', ');
const param = (name: string, type: ColumnType) => `:${name}::${castSql(type)}`;

/** Errors a tenant's data can cause → 4xx; a table changed by another process → 409 and a fresh read next time. */
/** A statement on one row by id: the row, 404 when there is none, 409/400 for what the data refuses. */
async function oneRow(
  sql: SqlRunner,
  statement: string,
  params: SqlParams,
  databaseId: string,
  table: string,
): Promise<SqlRow> {
  let rows: SqlRow[];
  try {
    rows = await sql.query(statement, params);
  } catch (error) {
    rowConflict(error, databaseId, table);
  }
  const [row] = rows;
  if (!row) throw new NotFound('Row not found');
  return row;
}

function rowConflict(error: unknown, databaseId: string, table: string): never {
  if (error instanceof SqlConstraintViolation) {
    if (error.kind === 'unique')
      throw new Conflict('A row with this value already exists', {
        reason: 'unique',
        constraint: error.constraint,
      });
    if (error.kind === 'foreign_key')
      throw new Conflict('The row refers to a missing row, or other rows refer to it', {
        reason: 'foreign_key',
        constraint: error.constraint,
      });
    throw new BadRequest(`The row violates a ${error.kind.replace('_', '-')} constraint`, {
      reason: error.kind,
      constraint: error.constraint,
    });
  }
  const state = sqlFailureOf(error)?.sqlState;
  if (state === '42703' || state === '42P01' || state === '42804') {
    tableMetadata.invalidate(databaseId, table);
    throw new Conflict('The table changed while the request ran; try again', { reason: 'table_changed' });
  }
  if (state === '42501')
    throw new Conflict('The tenant role may not change this table', { reason: 'insufficient_privilege' });
  if (state?.startsWith('22'))
    throw new BadRequest('A value is out of range for its column', { reason: 'data_exception' });
  throw error;
}

function withoutInternals(row: SqlRow): SqlRow {
  const out: SqlRow = {};
  for (const [key, value] of Object.entries(row)) if (!key.startsWith('tenantry_')) out[key] = value;
  return out;
}

// ---------------------------------------------------------------------------------------------
// One row
// ---------------------------------------------------------------------------------------------

/** The validated values of a write, as typed placeholders (`:v0::numeric`, …) and their parameters. */
function bindValues(info: TableInfo, values: Record<string, unknown>) {
  const byName = new Map(info.columns.map((c) => [c.name, c]));
  const names = Object.keys(values).filter((name) => values[name] !== undefined);
  const params: Record<string, SqlParams[string]> = {};
  const placeholders = names.map((name, i) => {
    const column = byName.get(name) as ColumnInfo;
    params[`v${i}`] = toParam(column.type, values[name]);
    return param(`v${i}`, column.type);
  });
  return { names, placeholders, params };
}

export async function insertRow(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  body: unknown,
) {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  const info = await tableOf(sql, databaseId, table);
  const values = parsePart(writeSchemasOf(info).insert, body, 'body') as Record<string, unknown>;
  const { names, placeholders, params } = bindValues(info, values);
  const statement =
    names.length === 0
      ? `insert into ${quoted(table)} default values returning ${selectList(info)}`
      : `insert into ${quoted(table)} (${names.map(quoted).join(', ')}) values (${placeholders.join(', ')}) returning ${selectList(info)}`;
  try {
    const [row] = await sql.query(statement, params);
    return row as SqlRow;
  } catch (error) {
    rowConflict(error, databaseId, table);
  }
}

export async function getRow(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  rowId: string,
) {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  const info = await tableOf(sql, databaseId, table);
  return oneRow(
    sql,
    `select ${selectList(info)} from ${quoted(table)} where "id" = :id::uuid`,
    { id: rowId },
    databaseId,
    table,
  );
}

export async function patchRow(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  rowId: string,
  body: unknown,
) {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  const info = await tableOf(sql, databaseId, table);
  const values = parsePart(writeSchemasOf(info).patch, body, 'body') as Record<string, unknown>;
  const bound = bindValues(info, values);
  const params: Record<string, SqlParams[string]> = { ...bound.params, id: rowId };
  const assignments = bound.names.map((name, i) => `${quoted(name)} = ${bound.placeholders[i]}`);
  return oneRow(
    sql,
    `update ${quoted(table)} set ${[...assignments, '"updated_at" = now()'].join(', ')}
      where "id" = :id::uuid returning ${selectList(info)}`,
    params,
    databaseId,
    table,
  );
}

export async function deleteRow(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  rowId: string,
) {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  await tableOf(sql, databaseId, table);
  let deleted = 0;
  try {
    deleted = await sql.execute(`delete from ${quoted(table)} where "id" = :id::uuid`, { id: rowId });
  } catch (error) {
    rowConflict(error, databaseId, table);
  }
  if (deleted === 0) throw new NotFound('Row not found');
}

// ---------------------------------------------------------------------------------------------
// Lists: filters, sort, keyset cursor, size cap
// ---------------------------------------------------------------------------------------------

export interface Filter {
  readonly column: ColumnInfo;
  readonly operator: FilterOperator;
  readonly value: unknown;
}

const ORDERABLE = (column: ColumnInfo) => column.type.base !== 'jsonb';

/** Which operators a column type takes. */
export function operatorsFor(type: ColumnType): readonly FilterOperator[] {
  switch (type.base) {
    case 'jsonb':
      return ['is_null'];
    case 'boolean':
      return ['eq', 'ne', 'in', 'is_null'];
    case 'text':
      return FILTER_OPERATORS;
    default:
      return ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'is_null'];
  }
}

/** Parses `filter[column][operator]=value` pairs against the table; every problem is a 400 naming the key. */
export function parseFilters(table: TableInfo, query: Record<string, string | number | undefined>): Filter[] {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const filters: Filter[] = [];
  const problems: Detail[] = [];
  for (const [key, raw] of Object.entries(query)) {
    const match = FILTER_KEY.exec(key);
    if (!match || raw === undefined) continue;
    const problem = (message: string, code = 'invalid_filter') =>
      problems.push({ location: 'query', path: key, code, message });
    const column = byName.get(match[1] as string);
    const operator = match[2] as FilterOperator;
    if (!column) {
      problem(`no column ${JSON.stringify(match[1])} in table ${table.name}`, 'unknown_column');
      continue;
    }
    if (!(FILTER_OPERATORS as readonly string[]).includes(operator)) {
      problem(`unknown operator; use one of ${FILTER_OPERATORS.join(', ')}`);
      continue;
    }
    if (!operatorsFor(column.type).includes(operator)) {
      problem(
        `${operator} does not apply to ${column.typeSql} columns; use one of ${operatorsFor(column.type).join(', ')}`,
      );
      continue;
    }
    const text = String(raw);
    if (operator === 'is_null') {
      if (text !== 'true' && text !== 'false') problem('must be true or false');
      else filters.push({ column, operator, value: text === 'true' });
      continue;
    }
    if (operator === 'like') {
      filters.push({ column, operator, value: text });
      continue;
    }
    if (operator === 'in') {
      let items: unknown;
      if (text.startsWith('[')) {
        try {
          items = JSON.parse(text);
        } catch {
          items = null;
        }
      } else items = text.split(',');
      if (
        !Array.isArray(items) ||
        items.length === 0 ||
        items.length > MAX_IN_VALUES ||
        !items.every((i) => typeof i === 'string')
      ) {
        problem(
          `must be a comma-separated list, or a JSON array of strings, of 1 to ${MAX_IN_VALUES} values`,
        );
        continue;
      }
      const values: unknown[] = [];
      for (const item of items as string[]) {
        const parsed = valueFromText(column.type, item);
        if ('problem' in parsed) {
          problem(`${JSON.stringify(item)} ${parsed.problem}`);
          break;
        }
        values.push(parsed.value);
      }
      if (values.length === items.length) filters.push({ column, operator, value: values });
      continue;
    }
    const parsed = valueFromText(column.type, text);
    if ('problem' in parsed) problem(parsed.problem);
    else filters.push({ column, operator, value: parsed.value });
  }
  if (problems.length > 0) invalid('query', problems);
  return filters;
}

function filterSql(filters: readonly Filter[], params: Record<string, SqlParams[string]>): string[] {
  return filters.map((filter, i) => {
    const column = quoted(filter.column.name);
    const name = `f${i}`;
    switch (filter.operator) {
      case 'is_null':
        return filter.value ? `${column} is null` : `${column} is not null`;
      case 'like':
        params[name] = filter.value as string;
        return `${column} like :${name}::text`;
      case 'in':
        params[name] = { json: (filter.value as unknown[]).map(String) };
        return `${column} in (select jsonb_array_elements_text(:${name}::jsonb)::${castSql(filter.column.type)})`;
      default:
        params[name] = toParam(filter.column.type, filter.value);
        return `${column} ${COMPARISON[filter.operator]} ${param(name, filter.column.type)}`;
    }
  });
}

/** The sort column as exact text for cursors (timestamps to the microsecond, in UTC). */
function sortKeySql(column: ColumnInfo): string {
  const name = quoted(column.name);
  if (column.type.base === 'timestamptz')
    return `to_char(${name} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  if (column.type.base === 'date') return `to_char(${name}, 'YYYY-MM-DD')`;
  return `${name}::text`;
}

const rowCursor = z.tuple([
  z.string().max(63),
  z.enum(['asc', 'desc']),
  z.string().max(12_000).nullable(),
  z.uuid(),
]);

export interface RowPage {
  readonly items: SqlRow[];
  readonly nextCursor: string | null;
}

/**
 * One page, in one statement: filters, keyset after the cursor, `limit + 1` rows, then a running
 * total of each row's JSON size that cuts the page at `MAX_PAGE_BYTES` (at least one row is always
 * returned). `nextCursor` is set whenever rows remain, whether the page ended on `limit` or on size.
 * Order: the sort column (ascending: nulls last; descending: nulls first), then `id` in the same
 * direction, so ties never repeat or skip a row.
 */
export async function listRows(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  query: RowsQuery,
): Promise<RowPage> {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  const info = await tableOf(sql, databaseId, table);
  return listRowsOf(sql, databaseId, info, query);
}

/**
 * Benchmark hook: the page statement and its parameters for a table and a query, exactly as the
 * rows route runs them, so that the same statement can be timed directly with `pg`.
 */
export function rowPageStatement(info: TableInfo, query: RowsQuery): { sql: string; params: SqlParams } {
  return buildRowPage(info, query).statement;
}

/** The page query on an open database and a known table (the benchmark may call this directly). */
export async function listRowsOf(
  sql: SqlRunner,
  databaseId: string,
  info: TableInfo,
  query: RowsQuery,
): Promise<RowPage> {
  const { statement, limit, sortColumn, direction } = buildRowPage(info, query);
  let rows: SqlRow[];
  try {
    rows = await sql.query(statement.sql, statement.params);
  } catch (error) {
    rowConflict(error, databaseId, info.name);
  }
  const total = Number(rows[0]?.tenantry_total ?? 0);
  const kept = rows.slice(0, limit);
  const more = total > limit || kept.length < total;
  const last = kept[kept.length - 1];
  return {
    items: kept.map(withoutInternals),
    nextCursor:
      more && last
        ? encodeCursor([
            sortColumn,
            direction,
            (last.tenantry_sort as string | null) ?? null,
            last.id as string,
          ])
        : null,
  };
}

function buildRowPage(info: TableInfo, query: RowsQuery) {
  const { limit, cursor, sort, ...rest } = query;
  const filters = parseFilters(info, rest as Record<string, string>);
  const direction = sort?.startsWith('-') ? 'desc' : 'asc';
  const sortName = sort ? sort.replace(/^-/, '') : 'created_at';
  const sortColumn = info.columns.find((c) => c.name === sortName);
  if (!sortColumn || !ORDERABLE(sortColumn)) {
    invalid('query', [
      {
        location: 'query',
        path: 'sort',
        code: 'invalid_sort',
        message: sortColumn
          ? `cannot sort by a ${sortColumn.typeSql} column`
          : `no column ${sortName} in table ${info.name}`,
      },
    ]);
  }
  const after = decodeCursor(rowCursor, cursor);
  if (after && (after[0] !== sortColumn.name || after[1] !== direction)) {
    invalid('query', [
      {
        location: 'query',
        path: 'cursor',
        code: 'invalid_cursor',
        message: 'the cursor belongs to another sort order',
      },
    ]);
  }
  if (after && after[2] !== null && sortColumn.name !== 'id') {
    const check = valueFromText(sortColumn.type, after[2]);
    if ('problem' in check) {
      invalid('query', [
        { location: 'query', path: 'cursor', code: 'invalid_cursor', message: 'Not a cursor of this list' },
      ]);
    }
  }

  const params: Record<string, SqlParams[string]> = { limit: limit + 1, maxBytes: MAX_PAGE_BYTES };
  const where = filterSql(filters, params);
  const s = quoted(sortColumn.name);
  const isId = sortColumn.name === 'id';
  const dir = direction === 'asc' ? 'asc' : 'desc';
  const order = isId
    ? `"id" ${dir}`
    : `${s} ${dir} ${direction === 'asc' ? 'nulls last' : 'nulls first'}, "id" ${dir}`;
  if (after) {
    params.cid = after[3];
    const cmp = direction === 'asc' ? '>' : '<';
    if (isId) where.push(`"id" ${cmp} :cid::uuid`);
    else if (after[2] === null) {
      where.push(
        direction === 'asc'
          ? `(${s} is null and "id" > :cid::uuid)`
          : `((${s} is null and "id" < :cid::uuid) or ${s} is not null)`,
      );
    } else {
      params.cv = after[2];
      const cv = `:cv::${castSql(sortColumn.type)}`;
      where.push(
        direction === 'asc'
          ? `(${s} > ${cv} or (${s} = ${cv} and "id" > :cid::uuid) or ${s} is null)`
          : `(${s} < ${cv} or (${s} = ${cv} and "id" < :cid::uuid))`,
      );
    }
  }
  const statement = `with page as (
      select ${selectList(info)}, ${sortKeySql(sortColumn)} as "tenantry_sort"
        from ${quoted(info.name)}
       ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
       order by ${order}
       limit :limit
    ), sized as (
      select page.*,
             sum(octet_length(row_to_json(page)::text)) over w as "tenantry_bytes",
             row_number() over w as "tenantry_n",
             count(*) over () as "tenantry_total"
        from page
      window w as (order by ${order} rows between unbounded preceding and current row)
    )
    select * from sized where "tenantry_n" = 1 or "tenantry_bytes" <= :maxBytes order by "tenantry_n"`;
  return {
    statement: { sql: statement, params: params as SqlParams },
    limit,
    sortColumn: sortColumn.name,
    direction,
  };
}
