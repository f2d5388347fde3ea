import { dumpTableIn, pinRendering } from '#shared/backups/dump-table';
import {
  type BackupManifest,
  type DatabaseBackup,
  databasePrefix,
  decodeManifest,
  manifestKey,
  type TableBackup,
} from '#shared/backups/manifest';
import {
  addForeignKeys,
  BackupIntegrityError,
  mergeTable,
  restoreTable,
} from '#shared/backups/restore-table';
import { tableDdl } from '#shared/backups/table-ddl';
import type { TableParts } from '#shared/backups/table-parts';
import type { BackupStore } from '#shared/ports/backup-store';
import type { SqlRunner } from '#shared/ports/sql';

/**
 * Restores one database of a backup into a new, empty tenant database that has the baseline
 * schema (docs/backups.md, "Restore"): every table from its DDL with its rows, verified against
 * the manifest (rows and sha256); the foreign keys once every table is in; and the platform's
 * `tenantry_migrations` — which the baseline already made — merged: the backup's rows go into
 * the existing table, so the module versions the source had come back with it.
 *
 * Re-running it is safe (a retried step): each table is restored in one transaction, so a table
 * that exists was loaded and verified whole. It is verified again (dumped and compared with the
 * manifest) and skipped; one that differs fails the restore (nothing but this restore writes a
 * `restoring` database: the row routes open active databases only). The foreign keys are added in
 * one transaction too, so they are either all there (skipped) or none.
 */

/** The platform's own table, made by the baseline schema in every database (shared/provisioning/saga.ts). */
export const MIGRATIONS_TABLE = 'tenantry_migrations';

export interface RestoreSource {
  readonly store: BackupStore;
  readonly tenantId: string;
  readonly backupId: string;
}

/** What one table's restore did: loaded now, merged (the migrations), or found already restored. */
export interface RestoredTable {
  readonly name: string;
  readonly rows: number;
  readonly sha256: string;
  readonly outcome: 'loaded' | 'merged' | 'verified';
}

/** A completed backup's manifest from the store, or null when it has none (not completed, or deleted). */
export async function readManifest(source: Omit<RestoreSource, 'backupId'>, backupId: string) {
  const body = await source.store.get(source.tenantId, manifestKey(backupId));
  return body ? decodeManifest(body) : null;
}

/** The manifest's entry for `databaseId`, or null when the backup does not hold it. */
export const databaseIn = (manifest: BackupManifest, databaseId: string): DatabaseBackup | null =>
  manifest.databases.find((db) => db.databaseId === databaseId) ?? null;

async function tableExists(sql: SqlRunner, name: string): Promise<boolean> {
  const rows = await sql.query(
    `select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind = 'r' and c.relname = :name`,
    { name },
  );
  return rows.length > 0;
}

/** A table restored by an earlier run, compared with its backup once more. */
async function verifyRestored(target: SqlRunner, table: TableBackup): Promise<RestoredTable> {
  const summary = await target.transaction(async (tx) => {
    await pinRendering(tx);
    return dumpTableIn(tx, table.ddl, async () => {}, { compress: false });
  });
  if (summary.rows !== table.rows || summary.sha256 !== table.sha256) {
    throw new BackupIntegrityError(
      table.name,
      `exists in the target with ${summary.rows} rows (sha256 ${summary.sha256}), the backup has ${table.rows} (sha256 ${table.sha256})`,
    );
  }
  return { name: table.name, rows: summary.rows, sha256: summary.sha256, outcome: 'verified' };
}

/** How many foreign keys the `public` tables of the target have. */
async function foreignKeyCount(sql: SqlRunner): Promise<number> {
  const [row] = await sql.query<{ count: number }>(
    `select count(*)::int as count from pg_constraint con
       join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and con.contype = 'f'`,
  );
  return row?.count ?? 0;
}

/**
 * Restores `database` (the manifest's entry) into `target`, the new database as the tenant's own
 * role. Throws BackupIntegrityError (naming the table) on a missing or corrupt part or a mismatch;
 * the table being loaded is rolled back, tables loaded before it stay (the caller drops the
 * database: a restore is all or nothing at the database's level).
 */
export async function restoreDatabase(
  target: SqlRunner,
  source: RestoreSource,
  database: DatabaseBackup,
): Promise<RestoredTable[]> {
  const from: TableParts = {
    store: source.store,
    tenantId: source.tenantId,
    prefix: databasePrefix(source.backupId, database.databaseId),
  };
  const restored: RestoredTable[] = [];
  for (const table of database.tables) {
    if (table.name === MIGRATIONS_TABLE) {
      const existing = await tableDdl(target, table.name);
      // Merged only into the same definition: another would be a baseline this backup predates.
      if (existing?.create !== table.ddl.create) {
        throw new BackupIntegrityError(table.name, 'the target has no such table, or one defined otherwise');
      }
      const merged = await mergeTable(target, table.ddl, table, from);
      restored.push({ name: table.name, rows: merged.rows, sha256: merged.sha256, outcome: 'merged' });
    } else if (await tableExists(target, table.name)) {
      restored.push(await verifyRestored(target, table));
    } else {
      const loaded = await restoreTable(target, table.ddl, table, from);
      restored.push({ name: table.name, rows: loaded.rows, sha256: loaded.sha256, outcome: 'loaded' });
    }
  }
  const ddls = database.tables.map((table) => table.ddl);
  const expected = ddls.reduce((n, ddl) => n + ddl.foreignKeys.length, 0);
  const present = await foreignKeyCount(target);
  if (present === 0) await addForeignKeys(target, ddls);
  else if (present !== expected) {
    throw new BackupIntegrityError(
      database.databaseId,
      `${present} foreign keys in the target, ${expected} in the backup`,
    );
  }
  return restored;
}
