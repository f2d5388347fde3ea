import * as z from 'zod';
import { decodeCursor, encodeCursor } from '#shared/core/cursor';
import {
  type ColumnInfo,
  countTables,
  existingTable,
  listTables,
  moduleOfComment,
  type TableInfo,
  tableMetadata,
} from '#shared/data/catalog';
import {
  type ColumnType,
  columnTypeSchema,
  defaultSchema,
  defaultSql,
  typeSql,
} from '#shared/data/column-types';
import { columnNameSchema, quoted, tableNameSchema } from '#shared/data/identifiers';
import { defaultTooLarge, MAX_ROW_BYTES, rowCapParams, rowOverCapSql } from '#shared/data/row-size';
import { openTenantDatabase, type TenantDataDeps } from '#shared/data/tenant-database';
import { Conflict, QuotaExceeded, ValidationFailed } from '#shared/errors';
import { SqlConstraintViolation, type SqlRunner, sqlFailureOf } from '#shared/ports/sql';

/**
 * Columns a table may have besides its system columns, in all (not only per request): with 100
 * columns of 63-byte names, the smallest row a table can be given is ~11 KB of JSON, far under
 * the row cap (shared/data/row-size.ts), so every table the API accepts can hold rows.
 */
export const MAX_COLUMNS = 100;

/** One column as a tenant declares it. `default` is a typed value, never SQL. */
export const columnSpecSchema = z
  .strictObject({
    name: columnNameSchema,
    type: columnTypeSchema,
    nullable: z.boolean().default(true),
    unique: z.boolean().default(false),
    default: z.unknown().optional(),
  })
  .transform((column, ctx) => {
    if (column.default === undefined || column.default === null) {
      const { default: _omit, ...rest } = column;
      return rest as typeof rest & { default?: unknown };
    }
    const parsed = defaultSchema(column.type).safeParse(column.default);
    if (parsed.success && defaultTooLarge(parsed.data)) {
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        message: `default: larger than a row may be (${MAX_ROW_BYTES} bytes of JSON): no row could hold it`,
      });
      return z.NEVER;
    }
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({
          code: 'custom',
          path: ['default', ...issue.path.map((p) => p as string | number)],
          message: `default: ${issue.message}`,
        });
      }
      return z.NEVER;
    }
    return { ...column, default: parsed.data };
  });
export type ColumnSpec = z.output<typeof columnSpecSchema>;

const distinctNames = (columns: readonly { name: string }[], ctx: z.RefinementCtx, path: string) => {
  const seen = new Set<string>();
  columns.forEach((column, index) => {
    if (seen.has(column.name)) {
      ctx.addIssue({
        code: 'custom',
        path: [path, index, 'name'],
        message: `column ${column.name} appears twice`,
      });
    }
    seen.add(column.name);
  });
};

export const createTableSchema = z
  .strictObject({
    name: tableNameSchema,
    columns: z.array(columnSpecSchema).max(MAX_COLUMNS).default([]),
  })
  .superRefine((table, ctx) => distinctNames(table.columns, ctx, 'columns'));

export const alterTableSchema = z
  .strictObject({
    addColumns: z.array(columnSpecSchema).max(MAX_COLUMNS).optional(),
    dropColumns: z.array(z.string().max(63)).max(MAX_COLUMNS).optional(),
    renameColumns: z
      .array(z.strictObject({ from: z.string().max(63), to: columnNameSchema }))
      .max(MAX_COLUMNS)
      .optional(),
  })
  .superRefine((change, ctx) => {
    if (!change.addColumns?.length && !change.dropColumns?.length && !change.renameColumns?.length) {
      ctx.addIssue({ code: 'custom', message: 'give addColumns, dropColumns or renameColumns' });
    }
    if (change.addColumns) distinctNames(change.addColumns, ctx, 'addColumns');
  });

/** The column definition in DDL: quoted name, type, constraints, a rendered default. */
function columnDefinition(column: ColumnSpec): string {
  const parts = [quoted(column.name), typeSql(column.type as ColumnType)];
  if (!column.nullable) parts.push('not null');
  if (column.unique) parts.push('unique');
  if (column.default !== undefined)
    parts.push(`default ${defaultSql(column.type as ColumnType, column.default)}`);
  return parts.join(' ');
}

export const SYSTEM_COLUMN_DDL = [
  '"id" uuid primary key default gen_random_uuid()',
  '"created_at" timestamptz not null default now()',
  '"updated_at" timestamptz not null default now()',
];

export interface TablesDeps extends TenantDataDeps {
  /** Whether `moduleId` is enabled in the database (its tables are then the module's to change). */
  readonly moduleEnabled: (databaseId: string, moduleId: string) => Promise<boolean>;
}

export const columnView = (column: ColumnInfo) => ({
  name: column.name,
  type: column.typeSql,
  nullable: column.nullable,
  unique: column.unique,
  ...(column.default !== undefined ? { default: column.default } : {}),
  system: column.system,
});

export const tableView = (table: TableInfo) => ({
  name: table.name,
  module: table.module,
  columns: table.columns.map(columnView),
  primaryKey: table.primaryKey,
  foreignKeys: table.foreignKeys,
  indexes: table.indexes,
  estimatedRows: table.estimatedRows,
});

/** Fresh from the catalog (DDL must not act on a cached description). */
async function freshTable(sql: SqlRunner, databaseId: string, table: string): Promise<TableInfo> {
  tableMetadata.invalidate(databaseId, table);
  return existingTable(sql, databaseId, table);
}

/** DDL errors a tenant can cause by the state of its data → 409s that say why. */
function ddlConflict(error: unknown): never {
  if (error instanceof SqlConstraintViolation) {
    const why: Record<SqlConstraintViolation['kind'], string> = {
      not_null:
        'existing rows have no value for a column declared not null: give it a default or make it nullable',
      unique: 'existing rows have duplicate values for a column declared unique',
      foreign_key: 'existing rows violate a foreign key',
      check: 'existing rows violate a check',
    };
    throw new Conflict(`The change conflicts with the table's data: ${why[error.kind]}`);
  }
  const state = sqlFailureOf(error)?.sqlState;
  if (state === '2BP01') throw new Conflict('Other objects depend on it (a foreign key from another table)');
  if (state === '42P07') throw new Conflict('A table with this name already exists');
  if (state === '42701') throw new Conflict('A column with this name already exists');
  if (state === '42703') throw new Conflict('No such column (the table changed meanwhile)');
  if (state === '23505')
    throw new Conflict('existing rows have duplicate values for a column declared unique');
  if (state === '23502') throw new Conflict('existing rows have no value for a column declared not null');
  throw error;
}

async function refuseModuleTable(deps: TablesDeps, databaseId: string, table: TableInfo) {
  if (table.module && (await deps.moduleEnabled(databaseId, table.module))) {
    throw new Conflict(
      `Table ${table.name} belongs to the enabled module ${table.module}; disable the module first`,
      {
        module: table.module,
      },
    );
  }
}

/**
 * The tables of one database are counted and created behind this transaction-scoped advisory
 * lock: PostgreSQL keys advisory locks by database, so creations in one database queue behind
 * each other and two at `limit - 1` cannot both pass (DDL is transactional, the count is read
 * after the lock, with a fresh snapshot).
 * https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
const TABLE_QUOTA_LOCK = 7_366_001;

/**
 * Creates a table; with `limit` (the tenant's `tablesPerDatabase`), counted against it in the same
 * transaction, a 403 `quota_exceeded` when the database has `limit` tables already. Returns the
 * table and, when counted, how many tables the database has with it.
 */
export async function createCountedTable(
  deps: TablesDeps,
  tenantId: string,
  databaseId: string,
  spec: z.output<typeof createTableSchema>,
  limit?: number,
): Promise<{ table: ReturnType<typeof tableView>; tables: number | null }> {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId, { changesTables: true });
  const definitions = [...SYSTEM_COLUMN_DDL, ...spec.columns.map(columnDefinition)];
  const ddl = `create table ${quoted(spec.name)} (${definitions.join(', ')})`;
  let tables: number | null = null;
  try {
    if (limit === undefined) await sql.execute(ddl);
    else {
      tables = await sql.transaction(async (tx) => {
        await tx.query(
          `select true as locked from (select pg_advisory_xact_lock(${TABLE_QUOTA_LOCK})) as lock`,
        );
        const used = await countTables(tx);
        if (used + 1 > limit) throw new QuotaExceeded('tablesPerDatabase', limit, used);
        await tx.execute(ddl);
        return used + 1;
      });
    }
  } catch (error) {
    ddlConflict(error);
  }
  tableMetadata.invalidate(databaseId, spec.name);
  return { table: tableView(await existingTable(sql, databaseId, spec.name)), tables };
}

export async function createTable(
  deps: TablesDeps,
  tenantId: string,
  databaseId: string,
  spec: z.output<typeof createTableSchema>,
) {
  return (await createCountedTable(deps, tenantId, databaseId, spec)).table;
}

export async function describeTable(deps: TablesDeps, tenantId: string, databaseId: string, table: string) {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  return tableView(await freshTable(sql, databaseId, table));
}

const tableCursor = z.tuple([z.string().regex(/^[a-z][a-z0-9_]{0,62}$/)]);

export async function listTenantTables(
  deps: TablesDeps,
  tenantId: string,
  databaseId: string,
  limit: number,
  cursor: string | undefined,
) {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  const after = decodeCursor(tableCursor, cursor);
  const rows = await listTables(sql, limit + 1, after?.[0] ?? null);
  const items = rows.slice(0, limit).map((row) => ({
    name: row.name,
    module: moduleOfComment(row.comment),
    estimatedRows: Number(row.estimatedRows),
  }));
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.name]) : null };
}

/** Adds, drops and renames columns, all in one transaction (PostgreSQL DDL is transactional). */
export async function alterTable(
  deps: TablesDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  change: z.output<typeof alterTableSchema>,
) {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId, { changesTables: true });
  const info = await freshTable(sql, databaseId, table);
  await refuseModuleTable(deps, databaseId, info);
  const byName = new Map(info.columns.map((c) => [c.name, c]));
  const problems: { location: 'body'; path: string; code: string; message: string }[] = [];
  const userColumn = (name: string, path: string) => {
    const column = byName.get(name);
    if (!column)
      problems.push({ location: 'body', path, code: 'unknown_column', message: `no column ${name}` });
    else if (column.system)
      problems.push({ location: 'body', path, code: 'system_column', message: `${name} is a system column` });
  };
  for (const [i, name] of (change.dropColumns ?? []).entries()) userColumn(name, `dropColumns.${i}`);
  for (const [i, r] of (change.renameColumns ?? []).entries()) userColumn(r.from, `renameColumns.${i}.from`);
  change.addColumns?.forEach((c, i) => {
    if (byName.has(c.name))
      problems.push({
        location: 'body',
        path: `addColumns.${i}.name`,
        code: 'column_exists',
        message: `column ${c.name} already exists`,
      });
  });
  const userColumns = info.columns.filter((c) => !c.system).length;
  const columnsAfter = userColumns - (change.dropColumns?.length ?? 0) + (change.addColumns?.length ?? 0);
  if (columnsAfter > MAX_COLUMNS) {
    problems.push({
      location: 'body',
      path: 'addColumns',
      code: 'too_many_columns',
      message: `a table has at most ${MAX_COLUMNS} columns besides the system columns (it would have ${columnsAfter})`,
    });
  }
  if (problems.length > 0) {
    throw new ValidationFailed(`Invalid body: ${problems.map((p) => p.path).join(', ')}`, {
      details: problems,
    });
  }
  const name = quoted(table);
  try {
    await sql.transaction(async (tx) => {
      for (const dropped of change.dropColumns ?? [])
        await tx.execute(`alter table ${name} drop column ${quoted(dropped)}`);
      for (const { from, to } of change.renameColumns ?? [])
        await tx.execute(`alter table ${name} rename column ${quoted(from)} to ${quoted(to)}`);
      for (const added of change.addColumns ?? [])
        await tx.execute(`alter table ${name} add column ${columnDefinition(added)}`);
      // New columns (their defaults fill every row) and longer names make rows larger: none may
      // pass the cap, or it could be written but no longer read (one scan, only for such changes).
      if (change.addColumns?.length || change.renameColumns?.length) {
        const [over] = await tx.query(rowOverCapSql(name), rowCapParams);
        if (over) {
          throw new Conflict(`The change would make rows larger than ${MAX_ROW_BYTES} bytes (their JSON)`, {
            reason: 'row_too_large',
            limitBytes: MAX_ROW_BYTES,
          });
        }
      }
    });
  } catch (error) {
    tableMetadata.invalidate(databaseId, table);
    ddlConflict(error);
  }
  return tableView(await freshTable(sql, databaseId, table));
}

export async function dropTable(deps: TablesDeps, tenantId: string, databaseId: string, table: string) {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId, { changesTables: true });
  const info = await freshTable(sql, databaseId, table);
  await refuseModuleTable(deps, databaseId, info);
  try {
    await sql.execute(`drop table ${quoted(table)}`);
  } catch (error) {
    ddlConflict(error);
  } finally {
    tableMetadata.invalidate(databaseId, table);
  }
}
