import { backupPrefix } from '#shared/backups/manifest';
import { deleteBackupObjects } from '#shared/backups/retention';
import type { BackupRepository } from '#shared/control/backup-repository';
import type { TenantDatabaseRecord } from '#shared/control/database-registry';
import type {
  OffboardedResource,
  OffboardingCertificates,
  Verification,
} from '#shared/control/offboarding-certificates';
import type { BackupStore } from '#shared/ports/backup-store';
import { POOL_DATABASE, roleNameFor, secretNameFor } from '#shared/provisioning/names';
import { type SagaDeps, TransientError } from '#shared/provisioning/saga';

/**
 * The offboarding certificate (docs/tenant-lifecycle.md, "Offboarding certificate"): offboarding
 * records each resource as it deletes it, then checks each one's absence where it lived — the
 * cluster's catalog, Secrets Manager, the backup store — and records how.
 */

export interface OffboardingDeps extends SagaDeps {
  readonly certificates: OffboardingCertificates;
  readonly backups: BackupRepository;
  readonly backupStore: BackupStore;
}

/** A tenant database, as dropped: where to look for it afterwards. */
export const databaseTarget = (record: TenantDatabaseRecord) => ({
  clusterId: record.clusterId,
  databaseName: record.databaseName,
  schemaName: record.schemaName,
});

export async function recordRoleAndSecret(deps: OffboardingDeps, tenantId: string): Promise<void> {
  await deps.certificates.deleted(tenantId, {
    type: 'role',
    id: roleNameFor(tenantId),
    target: { clusterIds: [...new Set(deps.clusters.ids())] },
  });
  await deps.certificates.deleted(tenantId, {
    type: 'secret',
    id: secretNameFor(deps.stage, tenantId),
    target: {},
  });
}

/**
 * Every backup of the tenant, and then every other object under its prefix of the backup store
 * (a move's copy parts, anything a failed backup left). A running backup is failed first: its
 * database is gone, so it could never complete. Each backup is recorded once its objects are
 * gone, then marked deleted (it leaves the list the retention job reads).
 */
export async function deleteStoredObjects(deps: OffboardingDeps, tenantId: string): Promise<void> {
  for (;;) {
    const page = await deps.backups.list(tenantId, 100, undefined);
    for (const backup of page.items) {
      if (backup.status === 'running') await deps.backups.fail(backup.id, 'The tenant was offboarded');
      await deleteBackupObjects(deps.backupStore, tenantId, backup.id);
      await deps.certificates.deleted(tenantId, {
        type: 'backup',
        id: backup.id,
        target: { prefix: backupPrefix(backup.id) },
      });
      await deps.backups.markDeleted(backup.id);
    }
    if (!page.nextCursor) break;
  }
  const left = await deps.backupStore.list(tenantId, '');
  // The store deletes in batches; keys that are gone already are ignored.
  await deps.backupStore.delete(
    tenantId,
    left.map((object) => object.key),
  );
  await deps.certificates.deleted(tenantId, {
    type: 'exports',
    id: `backups/${tenantId}/`,
    target: { objects: left.length },
  });
}

/** Verifies every resource of the certificate not verified yet; fails (retried) while one remains. */
export async function verifyOffboarding(deps: OffboardingDeps, tenantId: string): Promise<void> {
  const certificate = await deps.certificates.get(tenantId);
  const remaining: string[] = [];
  for (const resource of certificate?.resources ?? []) {
    if (resource.verifiedAt) continue;
    const verification = await absenceOf(deps, tenantId, resource);
    if (verification) await deps.certificates.verified(tenantId, resource, verification);
    else remaining.push(`${resource.type} ${resource.id}`);
  }
  if (remaining.length > 0) {
    throw new TransientError(`Offboarding left these behind: ${remaining.join(', ')}`);
  }
}

/** How the resource was found absent, or null when it is still there. */
async function absenceOf(
  deps: OffboardingDeps,
  tenantId: string,
  resource: OffboardedResource,
): Promise<Verification | null> {
  const target = resource.target;
  switch (resource.type) {
    case 'database': {
      const clusterId = typeof target.clusterId === 'string' ? target.clusterId : null;
      if (!clusterId) {
        return { method: 'tenant_databases', evidence: 'never placed on a cluster: no database was made' };
      }
      if (typeof target.schemaName === 'string') {
        const rows = await deps.clusters
          .admin(clusterId, POOL_DATABASE)
          .query('select 1 from pg_namespace where nspname = :name', { name: target.schemaName });
        return rows.length > 0
          ? null
          : {
              method: 'pg_namespace',
              evidence: `no schema ${target.schemaName} in ${POOL_DATABASE} on cluster ${clusterId}`,
            };
      }
      const rows = await deps.clusters
        .admin(clusterId)
        .query('select 1 from pg_database where datname = :name', { name: String(target.databaseName) });
      return rows.length > 0
        ? null
        : {
            method: 'pg_database',
            evidence: `no database ${String(target.databaseName)} on cluster ${clusterId}`,
          };
    }
    case 'role': {
      const clusterIds = Array.isArray(target.clusterIds) ? target.clusterIds.map(String) : [];
      for (const clusterId of clusterIds) {
        const rows = await deps.clusters
          .admin(clusterId)
          .query('select 1 from pg_roles where rolname = :role', { role: resource.id });
        if (rows.length > 0) return null;
      }
      return { method: 'pg_roles', evidence: `no role ${resource.id} on clusters ${clusterIds.join(', ')}` };
    }
    case 'secret':
      return (await deps.secrets.secretExists(resource.id))
        ? null
        : {
            method: 'secretsmanager:DescribeSecret',
            evidence: `ResourceNotFoundException for ${resource.id}`,
          };
    case 'backup': {
      const prefix = backupPrefix(resource.id);
      const left = await deps.backupStore.list(tenantId, prefix);
      return left.length > 0
        ? null
        : { method: 'backup store list', evidence: `no object under ${prefix} of the tenant's backups` };
    }
    case 'exports': {
      const left = await deps.backupStore.list(tenantId, '');
      return left.length > 0
        ? null
        : {
            method: 'backup store list',
            evidence: `no object under ${resource.id} (backups, move copies); row exports are never stored`,
          };
    }
  }
}
