import * as z from 'zod';
import { backupDatabase } from '#shared/backups/backup-database';
import {
  type BackupManifest,
  backupPrefix,
  type DatabaseBackup,
  databasePrefix,
  encodeManifest,
  type ManifestView,
  manifestBytes,
  manifestKey,
  manifestView,
} from '#shared/backups/manifest';
import { backupExpiry } from '#shared/backups/retention';
import { BackupRepository } from '#shared/control/backup-repository';
import type { CustomRoleRepository } from '#shared/control/custom-role-repository';
import type { DatabaseRegistry } from '#shared/control/database-registry';
import { BACKUP_ID_PATTERN, DATABASE_ID_PATTERN, TENANT_ID_PATTERN } from '#shared/control/ids';
import type { TenantRepository } from '#shared/control/tenant-repository';
import { openTenantDatabase } from '#shared/data/tenant-database';
import type { PlanSettings } from '#shared/domain/plans';
import { ModuleRegistry } from '#shared/modules/registry';
import type { BackupStore } from '#shared/ports/backup-store';
import type { DatabaseClusters } from '#shared/ports/clusters';
import type { SqlRunner } from '#shared/ports/sql';
import { caughtError } from '#shared/provisioning/inputs';
import { tenantLimits } from '#shared/tenancy/quotas';

/**
 * The backup operation of the provisioning state machine (`operation: 'backup'`,
 * docs/backups.md): PlanBackup → a Map of BackupDatabase (two databases at a time) → FinishBackup,
 * and FailBackup on any failure. Every step can run again: a re-run writes the same keys
 * (`<backupId>/<databaseId>/…`, `<backupId>/manifest.json`) and the control database moves a backup
 * out of `running` once only.
 *
 * The state carries ids and small summaries only: a state's input or output is at most 256 KiB
 * (https://docs.aws.amazon.com/step-functions/latest/dg/limits.html, "Maximum input or output size
 * for a task, state, or execution"). Each database's full description (DDL, parts) goes to the
 * store as `<backupId>/<databaseId>/database.json`, which FinishBackup reads back.
 */
export interface BackupStepDeps {
  readonly control: SqlRunner;
  readonly tenants: TenantRepository;
  readonly databases: DatabaseRegistry;
  readonly clusters: DatabaseClusters;
  readonly customRoles: CustomRoleRepository;
  readonly store: BackupStore;
  /** The deployment's plans: a completed backup expires after its tenant's `backupRetentionDays`. */
  readonly settings: { readonly plans?: PlanSettings };
}

export const backupStepInput = z.object({
  tenantId: z.string().regex(TENANT_ID_PATTERN),
  backupId: z.string().regex(BACKUP_ID_PATTERN),
});

export const backupDatabaseInput = backupStepInput.extend({
  databaseId: z.string().regex(DATABASE_ID_PATTERN),
});

export const finishBackupInput = backupStepInput.extend({
  plan: z.object({ databases: z.array(z.object({ databaseId: z.string().regex(DATABASE_ID_PATTERN) })) }),
});

export const failBackupInput = backupStepInput.extend({ error: caughtError });

/** A backup that can no longer be taken as asked (a database went away, the backup is not running). */
export class BackupNotPossible extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupNotPossible';
  }
}

/** `<backupId>/<databaseId>/database.json`: one database's full backup description, for FinishBackup. */
export const databaseDescriptionKey = (backupId: string, databaseId: string) =>
  `${databasePrefix(backupId, databaseId)}/database.json`;

async function runningBackup(deps: BackupStepDeps, tenantId: string, backupId: string) {
  const backup = await new BackupRepository(deps.control).get(backupId);
  if (!backup || backup.tenantId !== tenantId) throw new BackupNotPossible('The backup does not exist');
  return backup;
}

/**
 * Step 1: the databases to back up — those asked for, or every active one of the tenant when the
 * request named none — each still active. A database dropped since the request fails the backup
 * (with a reason) rather than leaving it out silently.
 */
export async function planBackup(
  deps: BackupStepDeps,
  { tenantId, backupId }: z.infer<typeof backupStepInput>,
): Promise<{ databases: { databaseId: string }[] }> {
  const backup = await runningBackup(deps, tenantId, backupId);
  if (backup.status !== 'running') throw new BackupNotPossible('The backup is not running');
  const databases = await deps.databases.ofTenant(tenantId);
  const wanted = backup.databaseIds ?? databases.filter((db) => db.status === 'active').map((db) => db.id);
  for (const databaseId of wanted) {
    const record = databases.find((db) => db.id === databaseId);
    if (record?.status !== 'active') {
      throw new BackupNotPossible(`Database ${databaseId} is no longer active`);
    }
  }
  if (wanted.length === 0) throw new BackupNotPossible('The tenant has no active database');
  return { databases: wanted.map((databaseId) => ({ databaseId })) };
}

/** What BackupDatabase leaves in the state: a few numbers per database, whatever its size. */
export interface DatabaseBackupSummary {
  readonly databaseId: string;
  readonly tables: number;
  readonly rows: number;
  readonly bytes: number;
}

/**
 * Step 2, per database: every table in one snapshot, as the tenant's own role (tenantData), parts
 * to the store as they are made, then the database's description. Bounded by its function's
 * timeout (15 minutes, BACKUP_DATABASE_TIMEOUT_SECONDS): that is the largest database one backup
 * can take. If the backup failed meanwhile (another database's step failed and FailBackup ran while
 * this one was still dumping), what this step wrote is deleted again, so it leaves no orphans.
 */
export async function backupOneDatabase(
  deps: BackupStepDeps,
  { tenantId, backupId, databaseId }: z.infer<typeof backupDatabaseInput>,
): Promise<DatabaseBackupSummary> {
  const backup = await runningBackup(deps, tenantId, backupId);
  if (backup.status !== 'running') throw new BackupNotPossible('The backup is not running');
  const { record, sql } = await openTenantDatabase(deps, tenantId, databaseId);
  // A retried step starts clean: an earlier attempt's snapshot may have had more parts than this one.
  await deleteUnder(deps.store, tenantId, `${databasePrefix(backupId, databaseId)}/`);
  const database = await backupDatabase(sql, {
    store: deps.store,
    tenantId,
    backupId,
    databaseId,
    label: record.label,
  });
  await deps.store.put(
    tenantId,
    databaseDescriptionKey(backupId, databaseId),
    new TextEncoder().encode(JSON.stringify(database)),
  );
  const after = await runningBackup(deps, tenantId, backupId);
  if (after.status !== 'running') {
    await deleteUnder(deps.store, tenantId, `${databasePrefix(backupId, databaseId)}/`);
    throw new BackupNotPossible('The backup stopped while this database was backed up');
  }
  return {
    databaseId,
    tables: database.tables.length,
    rows: database.tables.reduce((sum, table) => sum + table.rows, 0),
    bytes: database.tables.reduce((sum, table) => sum + table.bytes, 0),
  };
}

/**
 * Step 3: the tenant's configuration from the control database (settings, enabled modules per
 * database backed up, custom roles), the manifest written LAST (a backup without one is not
 * complete), then the backup marked completed with its view and size. A re-run after the backup
 * was completed answers what it holds and writes nothing.
 */
export async function finishBackup(
  deps: BackupStepDeps,
  { tenantId, backupId, plan }: z.infer<typeof finishBackupInput>,
): Promise<{ bytes: number; tables: number }> {
  const backups = new BackupRepository(deps.control);
  const backup = await runningBackup(deps, tenantId, backupId);
  if (backup.status === 'completed' && backup.manifest) {
    return { bytes: backup.bytes ?? 0, tables: tableCount(backup.manifest) };
  }
  if (backup.status !== 'running') throw new BackupNotPossible('The backup is not running');
  const databases: DatabaseBackup[] = [];
  for (const { databaseId } of plan.databases) {
    const body = await deps.store.get(tenantId, databaseDescriptionKey(backupId, databaseId));
    if (!body) throw new BackupNotPossible(`Database ${databaseId} has no backup description`);
    databases.push(JSON.parse(new TextDecoder().decode(body)) as DatabaseBackup);
  }
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new BackupNotPossible('The tenant does not exist');
  const backedUp = new Set(plan.databases.map((db) => db.databaseId));
  const modules = (await new ModuleRegistry(deps.control).ofTenant(tenantId))
    .filter((installation) => installation.enabled && backedUp.has(installation.databaseId))
    .map(({ moduleId, databaseId, version }) => ({ moduleId, databaseId, version }));
  const manifest: BackupManifest = {
    format: 1,
    backupId,
    tenantId,
    startedAt: backup.startedAt,
    completedAt: new Date().toISOString(),
    databases,
    settings: tenant.settings,
    modules,
    roles: (await deps.customRoles.allOf(tenantId)).map(({ id, name, permissions }) => ({
      id,
      name,
      permissions,
    })),
  };
  await deps.store.put(tenantId, manifestKey(backupId), encodeManifest(manifest));
  const bytes = manifestBytes(manifest);
  const view = manifestView(manifest);
  const { limits } = await tenantLimits(deps, tenantId);
  const expiresAt = backupExpiry(limits, manifest.completedAt);
  if (!(await backups.complete(backupId, { manifest: view, bytes, expiresAt }))) {
    throw new BackupNotPossible('The backup stopped before it was completed');
  }
  return { bytes, tables: tableCount(view) };
}

const tableCount = (view: ManifestView) => view.databases.reduce((sum, db) => sum + db.tables.length, 0);

async function deleteUnder(store: BackupStore, tenantId: string, prefix: string): Promise<number> {
  const objects = await store.list(tenantId, prefix);
  await store.delete(
    tenantId,
    objects.map((object) => object.key),
  );
  return objects.length;
}

/**
 * The `reason` of a failed backup: the error's name, and the message of our own refusals. A
 * `Cause` from elsewhere can hold SQL or names, and the reason is shown to the tenant's members.
 */
export function backupFailureReason(error: z.infer<typeof caughtError>): string {
  const name = error?.Error ?? 'Error';
  if (name === 'BackupNotPossible' && error?.Cause) {
    try {
      const message = (JSON.parse(error.Cause) as { errorMessage?: unknown }).errorMessage;
      if (typeof message === 'string') return `The backup failed: ${message}`;
    } catch {
      // Not Lambda's JSON: the name alone.
    }
  }
  return `The backup failed (${name})`;
}

/**
 * On any failure: the backup is marked failed with a reason first (so it no longer holds the
 * tenant's one running backup), then every object under `<backupId>/` is deleted, manifest
 * included. A completed backup is left as it is: it has all its objects (a failure after the
 * completion can only be the step's answer getting lost). Run again, it deletes what is left.
 */
export async function failBackup(
  deps: BackupStepDeps,
  { tenantId, backupId, error }: z.infer<typeof failBackupInput>,
): Promise<{ deleted: number; status: string }> {
  const backups = new BackupRepository(deps.control);
  const backup = await backups.get(backupId);
  if (!backup || backup.tenantId !== tenantId) return { deleted: 0, status: 'missing' };
  if (backup.status === 'completed') return { deleted: 0, status: 'completed' };
  await backups.fail(backupId, backupFailureReason(error));
  const deleted = await deleteUnder(deps.store, tenantId, backupPrefix(backupId));
  return { deleted, status: 'failed' };
}
