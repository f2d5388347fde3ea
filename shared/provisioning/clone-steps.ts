import { BackupRepository } from '#shared/control/backup-repository';
import { TenantProvisioned, TenantProvisioningFailed } from '#shared/events/events';
import { outgoing } from '#shared/ports/event-publisher';
import type { SqlRunner } from '#shared/ports/sql';
import {
  announce,
  dropDatabaseObjects,
  dropRoleAndSecret,
  InvalidProvisioningRequest,
  now,
  type SagaDeps,
} from '#shared/provisioning/saga';
import type { ClonePart } from '#shared/tenancy/clone';

/** The clone steps read the clone's backup and copy module records in the control database. */
export interface CloneStepDeps extends SagaDeps {
  readonly control: SqlRunner;
}

/** The clone's backup: the source and what the clone copies; refused when `tenantId` is no clone. */
async function cloneOf(deps: CloneStepDeps, tenantId: string, backupId: string) {
  const clone = await new BackupRepository(deps.control).ofClone(tenantId);
  if (!clone || clone.backupId !== backupId) {
    throw new InvalidProvisioningRequest(`Tenant ${tenantId} is not a clone made from backup ${backupId}`);
  }
  return { ...clone, include: new Set(clone.include as ClonePart[]) };
}

/**
 * Clone, step 1 (after the source's backup completed): the new tenant's databases to make, each
 * restored from the source database it copies (recorded with it). The tenant must still be
 * provisioning: a re-run after it finished or failed does nothing.
 */
export async function planClone(deps: CloneStepDeps, tenantId: string, backupId: string) {
  await cloneOf(deps, tenantId, backupId);
  const tenant = await deps.tenants.get(tenantId);
  if (tenant?.status !== 'provisioning') {
    throw new InvalidProvisioningRequest(
      `Tenant ${tenantId} is ${tenant?.status ?? 'unknown'}, not provisioning`,
    );
  }
  const databases = await deps.databases.ofTenant(tenantId);
  return {
    databases: databases.map((db) => {
      if (db.restoredFrom?.backupId !== backupId) {
        throw new InvalidProvisioningRequest(`Database ${db.id} is not restored from the clone's backup`);
      }
      return { databaseId: db.id, restore: { backupId, sourceDatabaseId: db.restoredFrom.databaseId } };
    }),
  };
}

/**
 * Clone, last step: every database is restored and active (the restore step recorded the modules
 * it brought), so the tenant becomes active. Safe to run again: an active tenant stays active.
 */
export async function finishClone(deps: CloneStepDeps, tenantId: string, backupId: string) {
  await cloneOf(deps, tenantId, backupId);
  const databases = await deps.databases.ofTenant(tenantId);
  const pending = databases.find((db) => db.status !== 'active');
  if (pending)
    throw new InvalidProvisioningRequest(`Database ${pending.id} of the clone is ${pending.status}`);
  const tenant = await deps.tenants.get(tenantId);
  if (tenant?.status === 'provisioning') {
    await deps.tenants.transition(tenantId, ['provisioning'], 'active');
    const primary = databases.find((db) => db.isPrimary);
    await announce(deps, outgoing(TenantProvisioned, { tenantId, databaseId: primary?.id ?? '', at: now() }));
  }
  deps.tenantChanged?.(tenantId);
  return { active: true, databases: databases.length };
}

/**
 * A clone that failed (its backup, or a database's provisioning or restore): every database made
 * for it is dropped and marked failed, its role and secret go, the tenant becomes `failed` with
 * the reason, and the backup is marked failed if it was still running. The source is never
 * touched. Safe to run again.
 */
export async function compensateClone(
  deps: CloneStepDeps,
  tenantId: string,
  backupId: string,
  reason: string,
) {
  await cloneOf(deps, tenantId, backupId);
  const databases = await deps.databases.ofTenant(tenantId);
  const clusterIds = deps.clusters.ids();
  for (const db of databases) {
    await dropDatabaseObjects(deps, { ...db, clusterId: db.clusterId ?? clusterIds[0] ?? null });
    await deps.databases.transition(
      db.id,
      ['provisioning', 'restoring', 'active', 'failed'],
      'failed',
      reason,
    );
  }
  await dropRoleAndSecret(deps, tenantId, clusterIds);
  await new BackupRepository(deps.control).fail(backupId, reason);
  const tenant = await deps.tenants.get(tenantId);
  if (tenant?.status === 'provisioning') {
    await deps.tenants.transition(tenantId, ['provisioning'], 'failed', reason);
    await announce(deps, outgoing(TenantProvisioningFailed, { tenantId, reason, at: now() }));
  }
  deps.tenantChanged?.(tenantId);
  return { compensated: true, databases: databases.length };
}
