import { dumpTableIn, inBackupSnapshot } from '#shared/backups/dump-table';
import { type DatabaseBackup, databasePrefix, type TableBackup } from '#shared/backups/manifest';
import { tableDdl } from '#shared/backups/table-ddl';
import { storeParts } from '#shared/backups/table-parts';
import type { BackupStore } from '#shared/ports/backup-store';
import type { SqlRunner } from '#shared/ports/sql';

/**
 * Every table of the database's schema (`public`, or a pooled database's own): the tenant's own,
 * its modules', and the platform's `tenantry_migrations` (which module versions the database
 * has), by name, each also quoted by PostgreSQL (`format('%I')`) for SQL text.
 */
export async function tablesOf(tx: SqlRunner): Promise<{ name: string; quotedName: string }[]> {
  return tx.query<{ name: string; quotedName: string }>(
    `select c.relname as name, format('%I', c.relname) as "quotedName"
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind = 'r'
      order by c.relname collate "C"`,
  );
}

export interface BackupTarget {
  readonly store: BackupStore;
  readonly tenantId: string;
  readonly backupId: string;
  readonly databaseId: string;
  readonly label: string;
}

/**
 * Backs up one tenant database: every table's DDL and rows, all in one read-only snapshot, so the
 * tables are consistent with each other while the tenant keeps writing. Parts go to the store as
 * they are made, under `<backupId>/<databaseId>/`; running it again writes the same keys (a retried
 * step leaves no second copy). `sql` is the tenant's own runner (`openTenantDatabase`).
 */
export async function backupDatabase(sql: SqlRunner, target: BackupTarget): Promise<DatabaseBackup> {
  const at = {
    store: target.store,
    tenantId: target.tenantId,
    prefix: databasePrefix(target.backupId, target.databaseId),
  };
  const tables = await inBackupSnapshot(sql, async (tx) => {
    const out: TableBackup[] = [];
    for (const { name } of await tablesOf(tx)) {
      const ddl = await tableDdl(tx, name);
      if (!ddl) continue;
      const summary = await dumpTableIn(tx, ddl, storeParts(at, name));
      out.push({ ...summary, ddl });
    }
    return out;
  });
  return { databaseId: target.databaseId, label: target.label, tables };
}
