import { createHash } from 'node:crypto';
import { backupDatabase, tablesOf } from '#shared/backups/backup-database';
import { dumpTableIn, inBackupSnapshot } from '#shared/backups/dump-table';
import { databasePrefix } from '#shared/backups/manifest';
import { restoreDatabase } from '#shared/backups/restore-database';
import { addForeignKeys, BackupIntegrityError, restoreTable } from '#shared/backups/restore-table';
import { type TableDdl, tableDdl } from '#shared/backups/table-ddl';
import { storeParts } from '#shared/backups/table-parts';
import type { BackupStore } from '#shared/ports/backup-store';
import type { SqlRunner } from '#shared/ports/sql';
import { quoteIdentifier } from '#shared/provisioning/names';

/*
 * A move's copy of one tenant database (docs/isolation-modes.md, "Moves"), with the backup and
 * restore machinery: the tables are dumped from the source in one snapshot into the backup store
 * under `<moveId>/<databaseId>/` and loaded into the (empty, baselined) target, each verified by
 * its rows and sha256, while the tenant goes on writing. Once row writes are frozen, `syncCopy`
 * brings the copy level: every table is hashed in both; a table that differs (written during the
 * copy), that is new or that changed its definition is copied again, one the source no longer has
 * is dropped; then every table is compared once more. Before the freeze, one such pass
 * (`catchUpCopy`) copies again the tables written during the first copy, so the freeze lasts one
 * hash of every table plus a copy of the tables written since the catch-up.
 */

export interface MoveCopyTarget {
  readonly store: BackupStore;
  readonly tenantId: string;
  readonly moveId: string;
  readonly databaseId: string;
  readonly label: string;
}

/** The first copy: every table of `source` into `target`, verified; what was copied. */
export async function copyDatabase(source: SqlRunner, target: SqlRunner, at: MoveCopyTarget) {
  const dumped = await backupDatabase(source, { ...at, backupId: at.moveId });
  const restored = await restoreDatabase(
    target,
    { store: at.store, tenantId: at.tenantId, backupId: at.moveId },
    dumped,
  );
  return { tables: restored.length, rows: restored.reduce((n, t) => n + t.rows, 0) };
}

/** A table as one side has it: its definition, and its rows' count and sha256 (the dump's). */
interface TableState {
  readonly name: string;
  readonly ddl: TableDdl;
  readonly rows: number;
  readonly sha256: string;
}

/** Every table of the database, in one snapshot. */
async function tableStates(sql: SqlRunner): Promise<TableState[]> {
  return inBackupSnapshot(sql, async (tx) => {
    const states: TableState[] = [];
    for (const { name } of await tablesOf(tx)) {
      const ddl = await tableDdl(tx, name);
      if (!ddl) continue;
      const { rows, sha256 } = await dumpTableIn(tx, ddl, async () => {}, { compress: false });
      states.push({ name, ddl, rows, sha256 });
    }
    return states;
  });
}

/**
 * Whether a table is the same in both. Index definitions name their schema (`pg_get_indexdef`),
 * which differs between a silo database (`public`) and a pooled one, so only their number counts.
 */
const sameTable = (a: TableState, b: TableState) =>
  a.rows === b.rows &&
  a.sha256 === b.sha256 &&
  a.ddl.create === b.ddl.create &&
  a.ddl.comment === b.ddl.comment &&
  a.ddl.indexes.length === b.ddl.indexes.length &&
  JSON.stringify(a.ddl.foreignKeys) === JSON.stringify(b.ddl.foreignKeys);

/** The copy does not match its source after the sync: the move is rolled back. */
export class MoveVerificationFailed extends Error {
  override readonly name = 'MoveVerificationFailed';
}

/** What the verification found: each table's rows and sha256 (the same on both sides). */
export interface MoveVerification {
  readonly tables: readonly { readonly name: string; readonly rows: number; readonly sha256: string }[];
  readonly rows: number;
  /** sha256 over every table's name, rows and sha256, in name order: one figure for the database. */
  readonly checksum: string;
  /** The tables copied again during the freeze (written during the first copy, or redefined). */
  readonly recopied: readonly string[];
  /** Tables the copy had and the source no longer has (dropped). */
  readonly dropped: readonly string[];
}

async function dropForeignKeys(target: SqlRunner): Promise<void> {
  await target.transaction(async (tx) => {
    // Names quoted by PostgreSQL, as the DDL of table-ddl.ts is.
    const drops = await tx.query<{ statement: string }>(
      `select format('alter table %I drop constraint %I', c.relname, con.conname) as statement
         from pg_constraint con join pg_class c on c.oid = con.conrelid
         join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and con.contype = 'f'`,
    );
    for (const { statement } of drops) await tx.execute(statement);
  });
}

/**
 * Copies again what differs between the copy and its source now: every stale table (written,
 * new or redefined since the copy) dumped from the source in one snapshot under
 * `<moveId>/<databaseId>-<pass>/` and loaded again, every table the source no longer has dropped,
 * the foreign keys put back. The states compared, and what was copied again.
 */
async function levelCopy(source: SqlRunner, target: SqlRunner, at: MoveCopyTarget, pass: string) {
  const [before, copied] = await Promise.all([tableStates(source), tableStates(target)]);
  const inCopy = new Map(copied.map((table) => [table.name, table]));
  const stale = before.filter((table) => {
    const copy = inCopy.get(table.name);
    return !copy || !sameTable(table, copy);
  });
  const names = new Set(before.map((table) => table.name));
  const gone = copied.filter((table) => !names.has(table.name));
  if (stale.length > 0 || gone.length > 0) {
    const parts = {
      store: at.store,
      tenantId: at.tenantId,
      prefix: databasePrefix(at.moveId, `${at.databaseId}-${pass}`),
    };
    const dumps = await inBackupSnapshot(source, async (tx) => {
      const out = [];
      for (const table of stale) {
        out.push({ ddl: table.ddl, dump: await dumpTableIn(tx, table.ddl, storeParts(parts, table.name)) });
      }
      return out;
    });
    await dropForeignKeys(target);
    for (const table of [...gone, ...stale])
      await target.execute(`drop table if exists ${table.ddl.quotedName}`);
    for (const { ddl, dump } of dumps) await restoreTable(target, ddl, dump, parts);
    await addForeignKeys(
      target,
      before.map((table) => table.ddl),
    );
  }
  return { before, inCopy, stale, dropped: gone.map((table) => table.name) };
}

/**
 * While the tenant still writes (after the first copy): the tables written during the copy copied
 * again, so that the freeze that follows has only the writes of this pass's own duration to bring
 * level. Nothing is verified here: the source moves on meanwhile.
 */
export async function catchUpCopy(source: SqlRunner, target: SqlRunner, at: MoveCopyTarget) {
  const { stale, dropped } = await levelCopy(source, target, at, 'catchup');
  return { recopied: stale.map((table) => table.name), dropped };
}

/**
 * Brings the copy level with a source whose row writes are frozen (see the module comment), then
 * verifies every table (hashed again only when a table was copied again: otherwise the comparison
 * just made is the verification). Safe to run again: it compares before it copies.
 */
export async function syncCopy(
  source: SqlRunner,
  target: SqlRunner,
  at: MoveCopyTarget,
): Promise<MoveVerification> {
  const { before, inCopy, stale, dropped } = await levelCopy(source, target, at, 'sync');
  const after =
    stale.length === 0 && dropped.length === 0
      ? inCopy
      : new Map((await tableStates(target)).map((table) => [table.name, table]));
  for (const table of before) {
    const copy = after.get(table.name);
    if (!copy || !sameTable(table, copy)) {
      throw new MoveVerificationFailed(
        `table ${JSON.stringify(table.name)}: the copy has ${copy?.rows ?? 'no'} rows (sha256 ${copy?.sha256 ?? '-'}), the source ${table.rows} (sha256 ${table.sha256})`,
      );
    }
  }
  if (after.size !== before.length)
    throw new MoveVerificationFailed('The copy has tables the source has not');
  const tables = before
    .map(({ name, rows, sha256 }) => ({ name, rows, sha256 }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const checksum = createHash('sha256')
    .update(tables.map((t) => `${t.name}\t${t.rows}\t${t.sha256}\n`).join(''))
    .digest('hex');
  return {
    tables,
    rows: tables.reduce((n, t) => n + t.rows, 0),
    checksum,
    recopied: stale.map((table) => table.name),
    dropped,
  };
}

/**
 * Freezes row writes on the source as its own role, in one transaction: every table locked in
 * SHARE mode, which waits for the writes in flight to commit and holds new ones back; then the
 * role's INSERT, UPDATE, DELETE and TRUNCATE taken from it on them (an owner may revoke its own
 * ordinary privileges: https://www.postgresql.org/docs/current/sql-grant.html), so a write that
 * arrives later, from any process, fails with insufficient_privilege (SQLSTATE 42501, which the
 * API answers as 503 `database_moving`). Reads go on. `thaw` gives them back.
 */
export async function freezeWrites(source: SqlRunner, roleName: string): Promise<void> {
  await source.transaction(async (tx) => {
    const tables = await tablesOf(tx);
    if (tables.length > 0) {
      await tx.execute(`lock table ${tables.map((table) => table.quotedName).join(', ')} in share mode`);
    }
    await tx.execute(
      `revoke insert, update, delete, truncate on all tables in schema ${await schemaOf(tx)} from ${quoteIdentifier(roleName)}`,
    );
  });
}

/** Gives the role its row writes back (a rolled back move). */
export async function thawWrites(source: SqlRunner, roleName: string): Promise<void> {
  await source.transaction(async (tx) => {
    await tx.execute(
      `grant insert, update, delete, truncate on all tables in schema ${await schemaOf(tx)} to ${quoteIdentifier(roleName)}`,
    );
  });
}

async function schemaOf(tx: SqlRunner): Promise<string> {
  const [row] = await tx.query<{ schema: string }>('select current_schema() as schema');
  if (!row?.schema) throw new BackupIntegrityError('-', 'the database has no current schema');
  return quoteIdentifier(row.schema);
}
