import type { IssueDetail } from '#shared/core/validation';
import { type ColumnInfo, existingTable, type TableInfo } from '#shared/data/catalog';
import {
  batchInsertSql,
  batchParams,
  batchReadSql,
  foreignKeyOffenderSql,
  notNullOffenderSql,
  uniqueOffenderSql,
} from '#shared/data/row-batch-sql';
import { rowConflict } from '#shared/data/row-errors';
import { writeSchemasOf } from '#shared/data/row-schemas';
import { MAX_ROW_BYTES } from '#shared/data/row-size';
import { MAX_PAGE_BYTES } from '#shared/data/row-statements';
import { openTenantDatabase, type TenantDataDeps } from '#shared/data/tenant-database';
import { BatchRerunRefused, RowTooLarge, ValidationFailed } from '#shared/errors';
import { SqlConstraintViolation, type SqlRow, type SqlRunner, sqlJson } from '#shared/ports/sql';

/**
 * Many rows in one request (`POST …/rows/batch`, and the file imports built on it): every row
 * checked as a single-row insert checks it, then all of them inserted in one transaction, all or
 * nothing, in as few statements as the Data API's limits allow (one per shape of row, usually one).
 * The limits and their reasons are in docs/tenant-data.md ("Many rows at once").
 */

/** The most rows one request inserts. */
export const MAX_BATCH_ROWS = 1_000;

/**
 * The largest body of a batch or an import, in bytes: far under what API Gateway (10 MB) and a
 * synchronous Lambda invocation (6 MB, base64 included) carry, and such that the rows, sent on to
 * the Data API as one JSON parameter (escaped once more inside its JSON request, at most about
 * twice the size), stay under its 4 MiB request limit; statements are also split below that.
 */
export const MAX_BATCH_BYTES = 1024 * 1024;

/**
 * The most keys and array items a batch body holds (the single-object routes allow 20 000):
 * 1 000 rows of 100 columns, with room for nested jsonb values.
 */
export const MAX_BATCH_JSON_ELEMENTS = 200_000;

/** The rows of an answer are returned whole up to this much JSON (a page of rows holds as much). */
export const MAX_BATCH_ITEMS_BYTES = MAX_PAGE_BYTES;

/**
 * The `:rows` parameter of one statement, as the Data API request carries it (JSON in a JSON
 * string), stays under this: half the Data API's 4 MiB request limit, the rest for the SQL, the
 * other fields and the headers.
 */
const MAX_STATEMENT_ROWS_BYTES = 2 * 1024 * 1024;

/**
 * A statement reading rows back answers at most about this much, as the Data API encodes it (a
 * field object per value, jsonb text escaped once more): under its 1 MiB response limit.
 */
const MAX_READ_RESPONSE_BYTES = 768 * 1024;
/** What the Data API adds to each value it returns (`{"stringValue":…}`, `{"isNull":true}`). */
const FIELD_OVERHEAD_BYTES = 24;

/** The most issues one refusal lists (a batch of 1 000 bad rows would list 100 000). */
const MAX_REPORTED_ISSUES = 100;

/** Where a row of the request came from, for its issues: its index, and its line in a file. */
export interface RowOrigin {
  readonly line?: number;
}

export interface RowIssue extends IssueDetail {
  /** The row's 0-based index in the request (the first data line of a file is 0). */
  readonly row: number;
  readonly line?: number;
}

/** A refusal of a batch: a 400 listing the first issues, each naming its row first (`3.age`). */
export function refuseRows(issues: readonly RowIssue[]): never {
  const shown = issues.slice(0, MAX_REPORTED_ISSUES);
  const more = issues.length - shown.length;
  const rows = [...new Set(shown.map((issue) => issue.row))];
  throw new ValidationFailed(
    `Invalid rows: ${rows.slice(0, 10).join(', ')}${rows.length > 10 ? ', …' : ''}${more > 0 ? ` (and ${more} more issues)` : ''}; nothing was written`,
    { details: shown, ...(more > 0 ? { moreIssues: more } : {}) },
  );
}

/** Too many or no rows: a 400 that names the limit, before anything is opened or written. */
export function checkRowCount(count: number): void {
  if (count >= 1 && count <= MAX_BATCH_ROWS) return;
  const message =
    count === 0 ? 'no rows to insert' : `at most ${MAX_BATCH_ROWS} rows in one request (got ${count})`;
  throw new ValidationFailed(`Invalid rows: ${message}; nothing was written`, {
    limitRows: MAX_BATCH_ROWS,
    details: [{ location: 'body', path: 'rows', code: count === 0 ? 'no_rows' : 'too_many_rows', message }],
  });
}

/** Checks every row with the table's insert schema; the checked values, or a 400 naming each issue. */
export function checkRows(
  info: TableInfo,
  rows: readonly unknown[],
  origins: readonly RowOrigin[] = [],
  earlier: readonly RowIssue[] = [],
): Record<string, unknown>[] {
  const schema = writeSchemasOf(info).insert;
  const issues: RowIssue[] = [...earlier];
  const failed = new Set(earlier.map((issue) => issue.row));
  const values = rows.map((row, index) => {
    if (failed.has(index)) return {};
    const result = schema.safeParse(row);
    if (result.success) return result.data as Record<string, unknown>;
    const line = origins[index]?.line;
    for (const issue of result.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [key]) : [[]];
      for (const key of keys) {
        issues.push({
          location: 'body',
          path: [index, ...issue.path.map(String), ...key].join('.'),
          code: issue.code,
          message: issue.code === 'unrecognized_keys' ? 'unknown column' : issue.message,
          row: index,
          ...(line === undefined ? {} : { line }),
        });
      }
    }
    return {};
  });
  if (issues.length > 0) refuseRows(issues.sort((a, b) => a.row - b.row));
  return values;
}

export interface BatchResult {
  readonly inserted: number;
  /** Every row as inserted, in request order: when they total at most MAX_BATCH_ITEMS_BYTES of JSON. */
  readonly items?: SqlRow[];
  /** Otherwise their ids, in request order (read the rows with `GET …/rows` or `…/rows/export`). */
  readonly ids?: string[];
}

type Entry = readonly [number, Record<string, unknown>];

/**
 * The size of an entry as one statement's `:rows` carries it (JSON in a JSON string, one of its
 * quotes counted): its JSON, plus one escaping backslash for each `"` and `\` in it, the only
 * characters JSON.stringify escapes in a string that is already JSON (control characters and lone
 * surrogates were escaped the first time).
 */
function entryBytes(entry: Entry): number {
  const json = JSON.stringify(entry);
  let escaped = 0;
  for (let index = 0; index < json.length; index++) {
    const code = json.charCodeAt(index);
    if (code === 34 || code === 92) escaped++;
  }
  return Buffer.byteLength(json) + escaped + 1;
}

/**
 * The statements of a batch: rows grouped by the columns they name (a column a row leaves out
 * takes its default, which a statement naming it cannot give), each group in request order and
 * split so that no statement's parameter passes MAX_STATEMENT_ROWS_BYTES.
 */
function statementsOf(info: TableInfo, values: readonly Record<string, unknown>[]) {
  const shapes = new Map<string, { columns: ColumnInfo[]; entries: Entry[] }>();
  values.forEach((row, index) => {
    const names = info.columns.filter((c) => row[c.name] !== undefined);
    const key = names.map((c) => c.name).join(',');
    const shape = shapes.get(key) ?? { columns: names, entries: [] };
    shape.entries.push([index, row]);
    shapes.set(key, shape);
  });
  const statements: { sql: string; entries: Entry[] }[] = [];
  for (const { columns, entries } of shapes.values()) {
    const sql = batchInsertSql(info, columns);
    let chunk: Entry[] = [];
    let bytes = 0;
    for (const entry of entries) {
      const size = entryBytes(entry);
      if (chunk.length > 0 && bytes + size > MAX_STATEMENT_ROWS_BYTES) {
        statements.push({ sql, entries: chunk });
        chunk = [];
        bytes = 0;
      }
      chunk.push(entry);
      bytes += size;
    }
    if (chunk.length > 0) statements.push({ sql, entries: chunk });
  }
  return statements;
}

/** Reads the written rows back, in statements whose answers stay under the Data API's limit. */
async function readBack(tx: SqlRunner, info: TableInfo, written: readonly { id: string; bytes: number }[]) {
  const perRow = (bytes: number) => 2 * bytes + FIELD_OVERHEAD_BYTES * info.columns.length;
  const rows = new Map<string, SqlRow>();
  let start = 0;
  while (start < written.length) {
    let end = start;
    let estimate = 0;
    while (
      end < written.length &&
      (end === start || estimate + perRow(written[end]?.bytes ?? 0) <= MAX_READ_RESPONSE_BYTES)
    ) {
      estimate += perRow(written[end]?.bytes ?? 0);
      end += 1;
    }
    const ids = written.slice(start, end).map((row) => row.id);
    for (const row of await tx.query(batchReadSql(info), { ids: sqlJson(ids) }))
      rows.set(row.id as string, row);
    start = end;
  }
  return written.map((row) => rows.get(row.id) as SqlRow);
}

/** The index of the row that broke `violation`, when one statement over the batch can find it. */
async function offendingRow(
  sql: SqlRunner,
  databaseId: string,
  info: TableInfo,
  entries: readonly Entry[],
  violation: SqlConstraintViolation,
): Promise<number | undefined> {
  const byName = new Map(info.columns.map((c) => [c.name, c]));
  const columnsOf = (names: readonly string[]) =>
    names.map((name) => byName.get(name)).filter((c): c is ColumnInfo => c !== undefined);
  let query: string | null = null;
  if (violation.kind === 'unique') {
    const index = info.indexes.find((i) => i.unique && i.name === violation.constraint);
    query = index ? uniqueOffenderSql(info, columnsOf(index.columns)) : null;
  } else if (violation.kind === 'foreign_key') {
    const key = info.foreignKeys.find((fk) => fk.name === violation.constraint);
    if (key) {
      const target =
        key.references.table === info.name
          ? info
          : await existingTable(sql, databaseId, key.references.table);
      const referenced = key.references.columns.map((name) => target.columns.find((c) => c.name === name));
      query = referenced.every((c) => c !== undefined)
        ? foreignKeyOffenderSql(info, columnsOf(key.columns), target, referenced as ColumnInfo[])
        : null;
    }
  } else if (violation.kind === 'not_null') {
    query = notNullOffenderSql(info.columns.filter((c) => !c.nullable && !c.system));
  }
  if (query === null) return undefined;
  const [found] = await sql.query(query, batchParams(entries));
  return typeof found?.n === 'number' ? found.n : undefined;
}

/** How a batch answers: every row read back (when small enough), or, `minimal`, their ids only. */
export interface BatchOptions {
  /** `Prefer: return=minimal` (shared/http/prefer.ts): the count and ids, no rows read back. */
  readonly minimal?: boolean;
}

/** Inserts checked rows into a known table, all or nothing (see the module comment). */
export async function insertCheckedRows(
  sql: SqlRunner,
  databaseId: string,
  info: TableInfo,
  values: readonly Record<string, unknown>[],
  options: BatchOptions = {},
): Promise<BatchResult> {
  const statements = statementsOf(info, values);
  try {
    return await sql.transaction(async (tx) => {
      const written: { id: string; bytes: number }[] = new Array(values.length);
      for (const statement of statements) {
        const [answer] = await tx.query(statement.sql, batchParams(statement.entries));
        const triples = JSON.parse(String(answer?.written ?? '[]')) as [number, string, number][];
        for (const [n, id, bytes] of triples) written[n] = { id, bytes: Number(bytes) };
      }
      const tooLarge = written.findIndex((row) => row.bytes > MAX_ROW_BYTES);
      if (tooLarge >= 0) {
        throw new RowTooLarge(
          `Row ${tooLarge} would be larger than ${MAX_ROW_BYTES} bytes (its JSON); nothing was written`,
          { limitBytes: MAX_ROW_BYTES, row: tooLarge },
        );
      }
      const total = written.reduce((sum, row) => sum + row.bytes, 0);
      if (options.minimal || total > MAX_BATCH_ITEMS_BYTES)
        return { inserted: written.length, ids: written.map((row) => row.id) };
      return { inserted: written.length, items: await readBack(tx, info, written) };
    });
  } catch (error) {
    if (error instanceof SqlConstraintViolation) {
      const entries = statements.flatMap((statement) => statement.entries);
      const row = await offendingRow(sql, databaseId, info, entries, error).catch(() => undefined);
      rowConflict(error, databaseId, info.name, row);
    }
    rowConflict(error, databaseId, info.name);
  }
}

/** `POST …/rows/batch`: checks and inserts `rows` into the tenant's table, all or nothing. */
export async function insertRows(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  rows: readonly unknown[],
  options: BatchOptions = {},
): Promise<BatchResult> {
  checkRowCount(rows.length);
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  const info = await existingTable(sql, databaseId, table);
  return insertCheckedRows(sql, databaseId, info, checkRows(info, rows), options);
}

/**
 * The batch routes under an Idempotency-Key: a first attempt runs, a replay answers the kept
 * result (the middleware), and a re-run — an earlier attempt died holding the key, or answered
 * 5xx, so its transaction may have committed — is refused rather than risk inserting the rows twice.
 */
export function refuseRerun(attempt: { readonly rerun: boolean } | null | undefined): void {
  if (attempt?.rerun) {
    throw new BatchRerunRefused(
      'An earlier attempt with this Idempotency-Key did not finish and may have inserted these rows; check the table and send what is missing under a new key',
    );
  }
}
