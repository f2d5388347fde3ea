import { cloneView } from '#shared/backups/clone-view';
import { databaseIn, readManifest, restoreDatabase } from '#shared/backups/restore-database';
import type { BackupRepository } from '#shared/control/backup-repository';
import type { ModuleRegistry } from '#shared/modules/registry';
import type { BackupStore } from '#shared/ports/backup-store';
import {
  databaseFor,
  InvalidProvisioningRequest,
  retryable,
  type SagaDeps,
  tenantRunner,
} from '#shared/provisioning/saga';
import type { ClonePart } from '#shared/tenancy/clone';

/**
 * The RestoreDatabase step of a provisioning that restores (docs/backups.md, "Restore"): after the
 * baseline schema, the backup's tables are loaded into the new database as the tenant's own role
 * and verified, then the source database's module records are copied to the new one in the
 * control database, so the restored module tables are recognised. The database stays `restoring`;
 * ActivateDatabase makes it `active`. Safe to run again (shared/backups/restore-database.ts).
 */

export interface RestoreStepDeps extends Pick<SagaDeps, 'databases' | 'clusters'> {
  readonly backupStore: BackupStore;
  readonly modules: ModuleRegistry;
  readonly backups: BackupRepository;
}

/**
 * Whose backup the database is restored from: the tenant's own, or — for a clone — the source's
 * backup that the clone was made from (recorded with it), with what the clone includes.
 */
async function backupOwner(deps: RestoreStepDeps, tenantId: string, backupId: string) {
  const clone = await deps.backups.ofClone(tenantId);
  if (clone?.backupId === backupId) {
    return { owner: clone.sourceTenantId, include: new Set(clone.include as ClonePart[]) };
  }
  return { owner: tenantId, include: null };
}

export interface RestoreRequest {
  readonly backupId: string;
  readonly sourceDatabaseId: string;
}

/**
 * A backup that cannot be restored from: its manifest is gone (deleted by retention meanwhile), or
 * it does not hold the database. Not retried; the provisioning is compensated.
 */
export class BackupUnavailable extends Error {
  override readonly name = 'BackupUnavailable';
}

interface ModuleEntry {
  readonly moduleId: string;
  readonly databaseId: string;
  readonly version: number;
  readonly enabled?: boolean;
}

const isModuleEntry = (entry: Record<string, unknown>): entry is Record<string, unknown> & ModuleEntry =>
  typeof entry.moduleId === 'string' &&
  typeof entry.databaseId === 'string' &&
  Number.isInteger(entry.version);

export async function restoreBackupInto(
  deps: RestoreStepDeps,
  tenantId: string,
  databaseId: string,
  request: RestoreRequest,
) {
  const record = await databaseFor(deps, tenantId, databaseId);
  // The control database says what to restore; the input only asks for it.
  const from = record.restoredFrom;
  if (from?.backupId !== request.backupId || from.databaseId !== request.sourceDatabaseId) {
    throw new InvalidProvisioningRequest(`Database ${databaseId} is not a restore of that backup`);
  }
  if (record.status !== 'restoring') {
    throw new InvalidProvisioningRequest(`Database ${databaseId} is ${record.status}, not restoring`);
  }
  const { owner, include } = await backupOwner(deps, tenantId, from.backupId);
  const source = { store: deps.backupStore, tenantId: owner, backupId: from.backupId };
  const manifest = await readManifest(source, from.backupId);
  if (!manifest || manifest.tenantId !== owner) throw new BackupUnavailable('The backup has no manifest');
  const held = databaseIn(manifest, from.databaseId);
  if (!held) throw new BackupUnavailable('The backup does not hold that database');
  // A clone restores what it includes: rows or the structure alone, modules or not.
  const database = include ? cloneView(held, include) : held;
  const sql = await tenantRunner(deps, record);
  const tables = await retryable(() => restoreDatabase(sql, source, database));
  const modules =
    include && !include.has('modules')
      ? []
      : manifest.modules.filter(isModuleEntry).filter((m) => m.databaseId === from.databaseId);
  for (const module of modules) {
    await deps.modules.record(tenantId, databaseId, module.moduleId, {
      enabled: module.enabled !== false,
      version: module.version,
    });
  }
  return {
    tables: tables.length,
    rows: tables.reduce((n, t) => n + t.rows, 0),
    modules: modules.map((m) => m.moduleId),
  };
}
