import { derivedRowId } from '#shared/control/ids';
import { parsePart } from '#shared/core/validation';
import { existingTable, type TableInfo } from '#shared/data/catalog';
import { quoted } from '#shared/data/identifiers';
import { rowConflict } from '#shared/data/row-errors';
import { nextRowCursor, parseRowListing, type RowListing, type RowsQuery } from '#shared/data/row-query';
import { writeSchemasOf } from '#shared/data/row-schemas';
import { cappedWriteSql, rowCapParams } from '#shared/data/row-size';
import {
  bindValues,
  pageStatement,
  selectList,
  sortKeyOf,
  withoutPageColumns,
} from '#shared/data/row-statements';
import { openTenantDatabase, type TenantDataDeps } from '#shared/data/tenant-database';
import { NotFound } from '#shared/errors';
import type { IdempotentAttempt } from '#shared/ports/idempotency';
import type { SqlParams, SqlRow, SqlRunner } from '#shared/ports/sql';

/**
 * Rows of a tenant's table: insert, get, patch, delete and list, on the tenant's own database as
 * its own role. The query grammar is in row-query, the write schemas in row-schemas, the SQL in
 * row-statements and what the data's errors mean in row-errors.
 */

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

/**
 * Inserts a row. One inserted under an Idempotency-Key gets the id its token derives (otherwise
 * the database's `gen_random_uuid()`), so that a re-run after an attempt that may have inserted it
 * answers that row (as it is now) instead of inserting a second one.
 */
export async function insertRow(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  body: unknown,
  attempt: IdempotentAttempt | null = null,
) {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  const info = await existingTable(sql, databaseId, table);
  const values = parsePart(writeSchemasOf(info).insert, body, 'body') as Record<string, unknown>;
  const rowId = attempt ? derivedRowId(attempt.token) : null;
  if (rowId && attempt?.rerun) {
    const [earlier] = await sql.query(
      `select ${selectList(info)} from ${quoted(table)} where "id" = :id::uuid`,
      {
        id: rowId,
      },
    );
    if (earlier) return earlier;
  }
  const bound = bindValues(info, values);
  const names = rowId ? ['id', ...bound.names] : bound.names;
  const placeholders = rowId ? [':rowId::uuid', ...bound.placeholders] : bound.placeholders;
  const params = rowId ? { ...bound.params, rowId } : bound.params;
  const write =
    names.length === 0
      ? `insert into ${quoted(table)} default values`
      : `insert into ${quoted(table)} (${names.map(quoted).join(', ')}) values (${placeholders.join(', ')})`;
  try {
    const [row] = await sql.query(cappedWriteSql(write, selectList(info)), { ...params, ...rowCapParams });
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
  const info = await existingTable(sql, databaseId, table);
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
  const info = await existingTable(sql, databaseId, table);
  const values = parsePart(writeSchemasOf(info).patch, body, 'body') as Record<string, unknown>;
  const bound = bindValues(info, values);
  const params: Record<string, SqlParams[string]> = { ...bound.params, ...rowCapParams, id: rowId };
  const assignments = bound.names.map((name, i) => `${quoted(name)} = ${bound.placeholders[i]}`);
  const write = `update ${quoted(table)} set ${[...assignments, '"updated_at" = now()'].join(', ')}
      where "id" = :id::uuid`;
  return oneRow(sql, cappedWriteSql(write, selectList(info)), params, databaseId, table);
}

export async function deleteRow(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  rowId: string,
) {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  await existingTable(sql, databaseId, table);
  let deleted = 0;
  try {
    deleted = await sql.execute(`delete from ${quoted(table)} where "id" = :id::uuid`, { id: rowId });
  } catch (error) {
    rowConflict(error, databaseId, table);
  }
  if (deleted === 0) throw new NotFound('Row not found');
}

export interface RowPage {
  readonly items: SqlRow[];
  readonly nextCursor: string | null;
}

/**
 * One page of rows (see `pageStatement`). `nextCursor` is set whenever rows remain, whether the
 * page ended on `limit` or on size.
 */
export async function listRows(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  query: RowsQuery,
): Promise<RowPage> {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  const info = await existingTable(sql, databaseId, table);
  return listRowsOf(sql, databaseId, info, query);
}

/** The page query on an open database and a known table (the benchmark may call this directly). */
export async function listRowsOf(
  sql: SqlRunner,
  databaseId: string,
  info: TableInfo,
  query: RowsQuery,
): Promise<RowPage> {
  const listing = parseRowListing(info, query);
  const { rows, more } = await pageRows(sql, databaseId, info, listing);
  const last = rows[rows.length - 1];
  return {
    items: rows.map(withoutPageColumns),
    nextCursor: more && last ? nextRowCursor(listing, sortKeyOf(listing, last), last.id as string) : null,
  };
}

/**
 * Runs one page statement (`pageStatement`, its options too): the page's rows, page columns
 * included, and whether rows remain after them.
 */
export async function pageRows(
  sql: SqlRunner,
  databaseId: string,
  info: TableInfo,
  listing: RowListing,
  options: Parameters<typeof pageStatement>[2] = {},
): Promise<{ rows: SqlRow[]; more: boolean }> {
  const statement = pageStatement(info, listing, options);
  let rows: SqlRow[];
  try {
    rows = await sql.query(statement.sql, statement.params);
  } catch (error) {
    rowConflict(error, databaseId, info.name);
  }
  const total = Number(rows[0]?.tenantry_total ?? 0);
  const kept = rows.slice(0, listing.limit);
  return { rows: kept, more: total > listing.limit || kept.length < total };
}
