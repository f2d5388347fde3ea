import * as z from 'zod';
import type { PartSummary } from '#shared/backups/ndjson-parts';
import type { TableDdl } from '#shared/backups/table-ddl';

/**
 * A backup's manifest (docs/backups.md): what it holds, enough to restore it without the control
 * database. Stored whole as `<backupId>/manifest.json` in the backup store, written last: a backup
 * whose manifest is missing is not complete, whatever objects it has. The control database keeps
 * the API's view of it (`manifestView`), without DDL and parts.
 */
export const MANIFEST_FORMAT = 1;

export interface TableBackup {
  readonly name: string;
  readonly rows: number;
  /** Uncompressed NDJSON bytes. */
  readonly bytes: number;
  /** Hex sha256 of the table's uncompressed NDJSON in primary-key order. */
  readonly sha256: string;
  readonly parts: readonly PartSummary[];
  readonly ddl: TableDdl;
}

export interface DatabaseBackup {
  readonly databaseId: string;
  readonly label: string;
  readonly tables: readonly TableBackup[];
}

/** The tenant's configuration at the time of the backup, as the control database had it. */
export interface ConfigurationBackup {
  readonly settings: Record<string, unknown>;
  /** Enabled modules per source database: `{ moduleId, databaseId, version, settings? }`. */
  readonly modules: readonly Record<string, unknown>[];
  /** Custom roles: `{ id, name, description, permissions }`. */
  readonly roles: readonly Record<string, unknown>[];
}

export interface BackupManifest extends ConfigurationBackup {
  readonly format: typeof MANIFEST_FORMAT;
  readonly backupId: string;
  readonly tenantId: string;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly databases: readonly DatabaseBackup[];
}

/** Keys in the tenant's part of the backup store (shared/ports/backup-store.ts checks them). */
export const backupPrefix = (backupId: string) => `${backupId}/`;
export const databasePrefix = (backupId: string, databaseId: string) => `${backupId}/${databaseId}`;
export const manifestKey = (backupId: string) => `${backupId}/manifest.json`;

/** The manifest as `GET …/backups/{backupId}` shows it (the contract of issue 17). */
export const manifestViewSchema = z.object({
  databases: z.array(
    z.object({
      databaseId: z.string(),
      label: z.string().optional(),
      tables: z.array(
        z.object({ name: z.string(), rows: z.number().int(), bytes: z.number().int(), sha256: z.string() }),
      ),
    }),
  ),
  settings: z.record(z.string(), z.unknown()),
  modules: z.array(z.record(z.string(), z.unknown())),
  roles: z.array(z.record(z.string(), z.unknown())),
});
export type ManifestView = z.infer<typeof manifestViewSchema>;

export const manifestView = (manifest: BackupManifest): ManifestView => ({
  databases: manifest.databases.map((db) => ({
    databaseId: db.databaseId,
    label: db.label,
    tables: db.tables.map(({ name, rows, bytes, sha256 }) => ({ name, rows, bytes, sha256 })),
  })),
  settings: manifest.settings,
  modules: [...manifest.modules],
  roles: [...manifest.roles],
});

/** Total uncompressed NDJSON bytes of a manifest's tables. */
export const manifestBytes = (manifest: Pick<BackupManifest, 'databases'>): number =>
  manifest.databases.reduce((sum, db) => sum + db.tables.reduce((s, t) => s + t.bytes, 0), 0);

export const encodeManifest = (manifest: BackupManifest): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(manifest));

/** A stored manifest; a format this code does not know is refused rather than misread. */
export function decodeManifest(body: Uint8Array): BackupManifest {
  const manifest = JSON.parse(new TextDecoder().decode(body)) as BackupManifest;
  if (manifest.format !== MANIFEST_FORMAT) {
    throw new Error(`backup manifest: format ${String(manifest.format)} is not ${MANIFEST_FORMAT}`);
  }
  return manifest;
}
