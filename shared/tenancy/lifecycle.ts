import type { ControlTenantAccess } from '#shared/control/access-policy';
import { DatabaseRegistry, type TenantDatabaseRecord } from '#shared/control/database-registry';
import { derivedDatabaseId, newDatabaseId } from '#shared/control/ids';
import type { TenantRepository } from '#shared/control/tenant-repository';
import type { Caller } from '#shared/domain/caller';
import { Conflict, Forbidden, NotFound } from '#shared/errors';
import type { IdempotentAttempt } from '#shared/ports/idempotency';
import type { TenantGrant } from '#shared/ports/tenant-access';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { databaseNameFor, roleNameFor } from '#shared/provisioning/names';
import {
  announceThresholds,
  type QuotaActor,
  SYSTEM_ACTOR,
  type ThresholdDeps,
} from '#shared/tenancy/quota-thresholds';
import { createWithinQuota, type QuotaDeps } from '#shared/tenancy/quotas';
import { provisioningExecutionName } from '#shared/tenancy/register-tenant';
import type { TenantSettings } from '#shared/tenancy/settings';
import { currentWorkflow, startWorkflow } from '#shared/workflows/attempts';
import type { ProvisioningInput } from '#shared/workflows/provisioning';

export interface LifecycleDeps {
  readonly tenants: TenantRepository;
  readonly databases: DatabaseRegistry;
  readonly workflows: WorkflowStarter;
  readonly tenantAccess: ControlTenantAccess;
}

/** Creating a database counts it against the tenant's `databases` limit and may reach a threshold. */
export type CreateDatabaseDeps = LifecycleDeps & QuotaDeps & ThresholdDeps;

/** Starts the work, or its next attempt when an earlier one has closed (see shared/workflows/attempts.ts). */
const start = (deps: LifecycleDeps, name: string, input: ProvisioningInput) =>
  startWorkflow(deps.workflows, name, input);

/**
 * Changes a tenant's name, settings, or whether its ancestors' roles apply to it. Only its owners
 * (and platform admins) may cut or restore that inheritance: it decides who else administers the
 * tenant. Every cached access answer goes, since the change reaches the whole subtree.
 */
export async function updateSettings(
  deps: Pick<LifecycleDeps, 'tenants' | 'tenantAccess'>,
  grant: Pick<TenantGrant, 'tenantId' | 'role'>,
  caller: Pick<Caller, 'groups'>,
  patch: TenantSettings & { name?: string; inheritAccess?: boolean },
) {
  const { name, inheritAccess, ...settings } = patch;
  if (inheritAccess !== undefined && grant.role !== 'owner' && !caller.groups.includes('platform-admin')) {
    throw new Forbidden('Only an owner can change whether roles of the parent tenants apply here');
  }
  const tenant = await deps.tenants.update(grant.tenantId, {
    ...(name ? { name } : {}),
    ...(inheritAccess !== undefined ? { inheritAccess } : {}),
    settings,
  });
  if (!tenant) throw new NotFound('Tenant not found');
  if (inheritAccess !== undefined) deps.tenantAccess.invalidateAll();
  return tenant;
}

/**
 * Offboarding: the tenant is suspended at once (every route answers 403), then the workflow drops
 * its databases, role, secret and memberships. Asking again is safe and answers the same.
 */
export async function offboard(deps: LifecycleDeps, tenantId: string) {
  const databases = await deps.databases.ofTenant(tenantId);
  if (databases.some((db) => db.status === 'provisioning')) {
    throw new Conflict('A database is still being provisioned; offboard when it has finished');
  }
  await deps.tenants.transition(
    tenantId,
    ['active', 'suspended', 'failed', 'deleting'],
    'deleting',
    'Offboarding',
  );
  deps.tenantAccess.invalidate(tenantId);
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new NotFound('Tenant not found');
  if (tenant.status === 'deleting') {
    await start(deps, `offboard-${tenantId}`, { operation: 'offboard', tenantId });
  }
  return { id: tenant.id, status: tenant.status };
}

export const toDatabaseView = (db: TenantDatabaseRecord) => ({
  id: db.id,
  label: db.label,
  isPrimary: db.isPrimary,
  status: db.status,
  statusReason: db.statusReason,
  clusterId: db.clusterId,
  createdAt: db.createdAt,
  updatedAt: db.updatedAt,
});

/**
 * Records another database of the tenant and starts its provisioning. One created under an
 * Idempotency-Key is named after its token: a re-run after an attempt that may have recorded it
 * answers that database, and starts its provisioning if it is still provisioning (the attempt may
 * have stopped between the two; the execution's name makes a second start of a running one a no-op).
 */
export async function createDatabase(
  deps: CreateDatabaseDeps,
  tenantId: string,
  label: string,
  attempt: IdempotentAttempt | null = null,
  actor: QuotaActor = SYSTEM_ACTOR,
) {
  const tenant = await deps.tenants.get(tenantId);
  if (tenant?.status !== 'active') throw new Conflict('The tenant is not active');
  const databaseId = attempt ? derivedDatabaseId(attempt.token) : newDatabaseId();
  const earlier = attempt?.rerun ? await deps.databases.get(databaseId) : null;
  if (earlier?.tenantId === tenantId) {
    if (earlier.status === 'provisioning') {
      await start(deps, `provision-${databaseId}`, { operation: 'provision', tenantId, databaseId });
    }
    return toDatabaseView(earlier);
  }
  // The record is the slot: counted and inserted under the tenant's lock (shared/tenancy/quotas.ts).
  const { result: record, use } = await createWithinQuota(deps, tenantId, 'databases', (tx) =>
    new DatabaseRegistry(tx).create({
      id: databaseId,
      tenantId,
      label,
      isPrimary: false,
      databaseName: databaseNameFor(databaseId),
      roleName: roleNameFor(tenantId),
    }),
  );
  await start(deps, `provision-${databaseId}`, { operation: 'provision', tenantId, databaseId });
  await announceThresholds(deps, use, actor);
  return toDatabaseView(record);
}

export async function dropDatabase(deps: LifecycleDeps, tenantId: string, databaseId: string) {
  const record = await deps.databases.ownedBy(tenantId, databaseId);
  if (record.isPrimary) throw new Conflict('The primary database goes only with the tenant (offboarding)');
  if (record.status === 'provisioning') throw new Conflict('The database is still being provisioned');
  // The transition also forgets this process's cached record: its requests answer 409 at once.
  await deps.databases.transition(databaseId, ['active', 'failed', 'deleting'], 'deleting');
  await start(deps, `drop-${databaseId}`, { operation: 'dropDatabase', tenantId, databaseId });
  return toDatabaseView({ ...record, status: 'deleting' });
}

export async function provisioningStatus(deps: LifecycleDeps, tenantId: string) {
  const [tenant, databases, execution] = await Promise.all([
    deps.tenants.get(tenantId),
    deps.databases.ofTenant(tenantId),
    currentWorkflow(deps.workflows, provisioningExecutionName(tenantId)),
  ]);
  if (!tenant) throw new NotFound('Tenant not found');
  return {
    tenantId,
    status: tenant.status,
    statusReason: tenant.statusReason,
    databases: databases.map(toDatabaseView),
    workflow: execution
      ? {
          attempt: execution.attempt,
          status: execution.status,
          startedAt: execution.startedAt,
          stoppedAt: execution.stoppedAt,
          error: execution.error,
          steps: execution.steps,
        }
      : null,
  };
}
