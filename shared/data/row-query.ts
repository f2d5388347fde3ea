import * as z from 'zod';
import { decodeCursor, encodeCursor } from '#shared/core/cursor';
import type { IssueDetail } from '#shared/core/validation';
import type { ColumnInfo, TableInfo } from '#shared/data/catalog';
import { type ColumnType, valueFromText } from '#shared/data/column-types';
import { ValidationFailed } from '#shared/errors';

/**
 * What a list of rows may ask for: `filter[column][operator]=value`, a sort column, a keyset
 * cursor and a limit, each checked against the table's columns. Every problem is a 400 that
 * names the query key it is in.
 */

export const MAX_FILTERS = 20;
export const MAX_IN_VALUES = 100;

export const FILTER_OPERATORS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'like', 'is_null'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export const FILTER_KEY = /^filter\[([^\]]{1,128})\]\[([a-z_]{1,16})\]$/;

/** `GET …/rows` query: limit, cursor, sort, and any number of `filter[column][operator]`. */
export const rowsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z
      .string()
      .max(16_384)
      .optional()
      .describe(
        'The nextCursor of the previous page (opaque); only valid with the sort it was made with. Send the same filters to continue the same list.',
      ),
    sort: z
      .string()
      .regex(/^-?[a-z][a-z0-9_]{0,62}$/, 'a column name, with - in front for descending')
      .optional()
      .describe(
        'The column to sort by, ascending; -column for descending. Default created_at; ties are broken by id. jsonb columns cannot be sorted.',
      ),
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

function invalid(details: IssueDetail[]): never {
  throw new ValidationFailed(`Invalid query: ${details.map((d) => d.path).join(', ')}`, { details });
}

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
  const problems: IssueDetail[] = [];
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
  if (problems.length > 0) invalid(problems);
  return filters;
}

/** Where a page starts: after the row whose sort key and id the cursor holds, in this order only. */
const rowCursor = z.tuple([
  z.string().max(63),
  z.enum(['asc', 'desc']),
  z.string().max(12_000).nullable(),
  z.uuid(),
]);
type RowCursor = z.output<typeof rowCursor>;

/** A list query, checked against its table. */
export interface RowListing {
  readonly filters: readonly Filter[];
  readonly limit: number;
  readonly sortColumn: ColumnInfo;
  readonly direction: 'asc' | 'desc';
  /** The cursor's sort key (exact text, null for a null key) and id; none on the first page. */
  readonly after: RowCursor | undefined;
}

export function parseRowListing(info: TableInfo, query: RowsQuery): RowListing {
  const { limit, cursor, sort, ...rest } = query;
  const filters = parseFilters(info, rest as Record<string, string>);
  const direction = sort?.startsWith('-') ? 'desc' : 'asc';
  const sortName = sort ? sort.replace(/^-/, '') : 'created_at';
  const sortColumn = info.columns.find((c) => c.name === sortName);
  if (!sortColumn || !ORDERABLE(sortColumn)) {
    invalid([
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
    invalid([
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
      invalid([
        { location: 'query', path: 'cursor', code: 'invalid_cursor', message: 'Not a cursor of this list' },
      ]);
    }
  }
  return { filters, limit, sortColumn, direction, after };
}

/** The cursor of the page after the one ending on `last` (its sort key as `sortKeySql` gave it). */
export const nextRowCursor = (listing: RowListing, sortKey: string | null, id: string): string =>
  encodeCursor([listing.sortColumn.name, listing.direction, sortKey, id]);
