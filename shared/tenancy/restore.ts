import { BackupRepository } from '#shared/control/backup-repository';
import { DatabaseRegistry } from '#shared/control/database-registry';
import { derivedDatabaseId, newDatabaseId } from '#shared/control/ids';
import { Conflict, NotFound } from '#shared/errors';
import type { IdempotentAttempt } from '#shared/ports/idempotency';
import { roleNameFor } from '#shared/provisioning/names';
import { type CreateDatabaseDeps, toDatabaseView } from '#shared/tenancy/lifecycle';
import { announceThresholds, type QuotaActor, SYSTEM_ACTOR } from '#shared/tenancy/quota-thresholds';
import { createWithinQuota } from '#shared/tenancy/quotas';
import { startWorkflow } from '#shared/workflows/attempts';
import type { ProvisioningInput } from '#shared/workflows/provisioning';

/**
 * Restoring a backup (docs/backups.md, "Restore"): one database of a completed backup of the
 * tenant into a NEW database of the same tenant, made by the provisioning saga like any database
 * (placement, role, baseline; the same compensation) with one more step, RestoreDatabase, that
 * loads and verifies the rows. The original database is never touched.
 */

/** The restored database's label: made from its own id, so two restores never collide. */
export const restoredLabel = (databaseId: string) => `restored-${databaseId.slice(2)}`;

const provisioningOf = (tenantId: string, databaseId: string, backupId: string, sourceDatabaseId: string) =>
  ({
    operation: 'provision',
    tenantId,
    databaseId,
    restore: { backupId, sourceDatabaseId },
  }) satisfies ProvisioningInput;

const restoreView = (
  record: Parameters<typeof toDatabaseView>[0],
  backupId: string,
  sourceDatabaseId: string,
) => ({ ...toDatabaseView(record), databaseId: record.id, backupId, sourceDatabaseId });

/**
 * Records the new database — `restoring`, counted against the tenant's `databases` quota like
 * `createDatabase` — and starts its provisioning (`provision-<databaseId>`). Another tenant's
 * backup, an unknown or deleted one, and a database the backup does not hold answer 404; a backup
 * not completed 409. Under an Idempotency-Key the database is named after the token: a re-run
 * answers it, and starts its provisioning again if it may not have started.
 */
export async function startRestore(
  deps: CreateDatabaseDeps,
  tenantId: string,
  backupId: string,
  sourceDatabaseId: string,
  attempt: IdempotentAttempt | null = null,
  actor: QuotaActor = SYSTEM_ACTOR,
) {
  const backup = await new BackupRepository(deps.control).ownedBy(tenantId, backupId);
  const databaseId = attempt ? derivedDatabaseId(attempt.token) : newDatabaseId();
  const earlier = attempt?.rerun ? await deps.databases.get(databaseId) : null;
  if (earlier?.tenantId === tenantId && earlier.restoredFrom) {
    const from = earlier.restoredFrom;
    if (earlier.status === 'restoring') {
      await startWorkflow(
        deps.workflows,
        `provision-${databaseId}`,
        provisioningOf(tenantId, databaseId, from.backupId, from.databaseId),
      );
    }
    return restoreView(earlier, from.backupId, from.databaseId);
  }
  if (backup.status !== 'completed' || !backup.manifest) {
    throw new Conflict('The backup is not completed', {
      reason: 'backup_not_completed',
      status: backup.status,
    });
  }
  if (!backup.manifest.databases.some((db) => db.databaseId === sourceDatabaseId)) {
    throw new NotFound('The backup does not hold this database', { databaseId: sourceDatabaseId });
  }
  const tenant = await deps.tenants.get(tenantId);
  if (tenant?.status !== 'active') throw new Conflict('The tenant is not active');
  // The record is the slot: counted and inserted under the tenant's lock (shared/tenancy/quotas.ts).
  const { result: record, use } = await createWithinQuota(deps, tenantId, 'databases', (tx) =>
    new DatabaseRegistry(tx).create({
      id: databaseId,
      tenantId,
      label: restoredLabel(databaseId),
      isPrimary: false,
      isolation: tenant.isolation,
      roleName: roleNameFor(tenantId),
      restoredFrom: { backupId, databaseId: sourceDatabaseId },
    }),
  );
  await startWorkflow(
    deps.workflows,
    `provision-${databaseId}`,
    provisioningOf(tenantId, databaseId, backupId, sourceDatabaseId),
  );
  await announceThresholds(deps, use, actor);
  return restoreView(record, backupId, sourceDatabaseId);
}
