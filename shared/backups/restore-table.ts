import { dumpTableIn, pinRendering } from '#shared/backups/dump-table';
import { PartUnreadable, readPart, type TableSummary } from '#shared/backups/ndjson-parts';
import type { TableDdl } from '#shared/backups/table-ddl';
import { fetchPart, type TableParts } from '#shared/backups/table-parts';
import type { SqlRunner } from '#shared/ports/sql';

/**
 * Loads a table from its backup into another database: creates it from its DDL, inserts its
 * rows in batches, builds its indexes, then dumps it again and compares the row count and sha256
 * with the backup's. All in one transaction on the target, so a failure (a missing or corrupt
 * part, a mismatch, a refused row) leaves no table behind. Foreign keys are not added here: the
 * caller adds `ddl.foreignKeys` once every table of the database is loaded (`addForeignKeys`).
 */

/**
 * A backup that cannot be restored as it was taken: a part missing, unreadable or not matching
 * its checksum, or the restored rows not hashing to the backup's sha256. Names the table.
 */
export class BackupIntegrityError extends Error {
  constructor(
    readonly table: string,
    why: string,
  ) {
    super(`table ${JSON.stringify(table)}: ${why}`);
    this.name = 'BackupIntegrityError';
  }
}

export interface LoadLimits {
  /** Rows per insert at most. */
  readonly batchRows: number;
  /** Bytes of NDJSON per insert at most (beyond a batch's first row). */
  readonly batchBytes: number;
}

/*
 * A batch is one ExecuteStatement whose `:rows` parameter is the rows' JSON array. The Data API
 * takes request bodies up to 4 MiB and statements up to 45 s
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html, quotas;
 * the SDK sends the parameter JSON-escaped, at most doubling it): 1 MiB of rows stays far under both.
 */
export const LOAD_LIMITS: LoadLimits = { batchRows: 1_000, batchBytes: 1024 * 1024 };

/** Lines grouped into batches within `limits` (a line alone over `batchBytes` is a batch alone). */
export function batchesOf(lines: readonly string[], limits: LoadLimits = LOAD_LIMITS): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (batch.length > 0 && (batch.length >= limits.batchRows || bytes + size > limits.batchBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(line);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Every column is given, so defaults do not apply: ids and created/updated timestamps come back
 * as they were. `json_to_recordset` reads each field with its column's type (json texts as text,
 * cast back: see dump-table.ts). https://www.postgresql.org/docs/current/functions-json.html
 */
const insertSql = (ddl: TableDdl) =>
  `insert into ${ddl.quotedName} (${ddl.insertColumns})
   select ${ddl.insertValues} from json_to_recordset(:rows::json) as x(${ddl.loadColumns})`;

async function loadParts(
  tx: SqlRunner,
  ddl: TableDdl,
  dump: TableSummary,
  from: TableParts,
  limits: LoadLimits,
  statement: (insert: string) => string = (insert) => insert,
) {
  for (const part of dump.parts) {
    const body = await fetchPart(from, dump.name, part);
    if (!body) throw new PartUnreadable(part.index, 'missing from the backup store');
    const lines = await readPart(body, part);
    for (const batch of batchesOf(lines, limits)) {
      await tx.execute(statement(insertSql(ddl)), { rows: `[${batch.join(',')}]` });
    }
  }
}

/** Restores one table (see the module comment) and answers the summary of the restored rows. */
export async function restoreTable(
  target: SqlRunner,
  ddl: TableDdl,
  dump: TableSummary,
  from: TableParts,
  limits: LoadLimits = LOAD_LIMITS,
): Promise<TableSummary> {
  if (ddl.name !== dump.name) throw new Error(`restoreTable: DDL of ${ddl.name}, rows of ${dump.name}`);
  try {
    return await target.transaction(async (tx) => {
      await pinRendering(tx);
      await tx.execute(ddl.create);
      if (ddl.comment) await tx.execute(ddl.comment);
      await loadParts(tx, ddl, dump, from, limits);
      // Indexes after the rows: one sort per index instead of an update per row.
      for (const index of ddl.indexes) await tx.execute(index);
      const restored = await dumpTableIn(tx, ddl, async () => {}, { compress: false });
      if (restored.rows !== dump.rows || restored.sha256 !== dump.sha256) {
        throw new BackupIntegrityError(
          dump.name,
          `restored ${restored.rows} rows (sha256 ${restored.sha256}), the backup has ${dump.rows} (sha256 ${dump.sha256})`,
        );
      }
      return restored;
    });
  } catch (error) {
    if (error instanceof PartUnreadable) throw new BackupIntegrityError(dump.name, error.message);
    throw error;
  }
}

/**
 * Loads a table's backed-up rows into a table of the same definition that already exists in the
 * target (the platform's `tenantry_migrations`, which the baseline schema makes in every new
 * database): each row inserted, or — where the key is already there — its other columns set to
 * the backup's, then the table compared with the backup as `restoreTable` does. One transaction:
 * a failure leaves the table as it was.
 */
export async function mergeTable(
  target: SqlRunner,
  ddl: TableDdl,
  dump: TableSummary,
  from: TableParts,
  limits: LoadLimits = LOAD_LIMITS,
): Promise<TableSummary> {
  if (ddl.name !== dump.name) throw new Error(`mergeTable: DDL of ${ddl.name}, rows of ${dump.name}`);
  // The column list is quoted identifiers joined by ', ' (a quoted one may hold ', ' itself).
  const others = (ddl.insertColumns.match(/"(?:[^"]|"")*"|[^\s,]+/g) ?? [])
    .filter((column) => !ddl.primaryKey.includes(column))
    .map((column) => `${column} = excluded.${column}`);
  const upsert = (sql: string) =>
    `${sql} on conflict (${ddl.primaryKey.join(', ')}) do ${others.length > 0 ? `update set ${others.join(', ')}` : 'nothing'}`;
  try {
    return await target.transaction(async (tx) => {
      await pinRendering(tx);
      await loadParts(tx, ddl, dump, from, limits, upsert);
      const merged = await dumpTableIn(tx, ddl, async () => {}, { compress: false });
      if (merged.rows !== dump.rows || merged.sha256 !== dump.sha256) {
        throw new BackupIntegrityError(
          dump.name,
          `merged into ${merged.rows} rows (sha256 ${merged.sha256}), the backup has ${dump.rows} (sha256 ${dump.sha256})`,
        );
      }
      return merged;
    });
  } catch (error) {
    if (error instanceof PartUnreadable) throw new BackupIntegrityError(dump.name, error.message);
    throw error;
  }
}

/** Adds the foreign keys of restored tables, once all of them are loaded (in one transaction). */
export async function addForeignKeys(target: SqlRunner, ddls: readonly TableDdl[]): Promise<void> {
  await target.transaction(async (tx) => {
    for (const ddl of ddls) for (const statement of ddl.foreignKeys) await tx.execute(statement);
  });
}
