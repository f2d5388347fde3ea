import type { ControlTenantAccess } from '#shared/control/access-policy';
import { DatabaseRegistry, type TenantDatabaseRecord } from '#shared/control/database-registry';
import { derivedDatabaseId, newDatabaseId } from '#shared/control/ids';
import { TenantHierarchy } from '#shared/control/tenant-hierarchy';
import { MAX_NAMED_CHILDREN } from '#shared/control/tenant-paths';
import { TenantRepository } from '#shared/control/tenant-repository';
import type { Caller } from '#shared/domain/caller';
import { Conflict, Forbidden, NotFound } from '#shared/errors';
import type { IdempotentAttempt } from '#shared/ports/idempotency';
import type { SqlRunner } from '#shared/ports/sql';
import type { TenantGrant } from '#shared/ports/tenant-access';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { roleNameFor } from '#shared/provisioning/names';
import { latestMove, moveExecutionName, refuseWhileMoving } from '#shared/tenancy/moves';
import {
  announceThresholds,
  type QuotaActor,
  SYSTEM_ACTOR,
  type ThresholdDeps,
} from '#shared/tenancy/quota-thresholds';
import { createWithinQuota, type QuotaDeps } from '#shared/tenancy/quotas';
import { provisioningExecutionName } from '#shared/tenancy/register-tenant';
import type { TenantSettings } from '#shared/tenancy/settings';
import { currentWorkflow, startWorkflow, workflowView } from '#shared/workflows/attempts';
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

/** Offboarding checks and marks the subtree in one transaction of the control database. */
export type OffboardDeps = LifecycleDeps & { readonly control: SqlRunner };

/**
 * The most tenants one offboarding takes. Each is an iteration of the workflow's Map, a handful of
 * history events, and an execution keeps at most 25,000
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-history-limit.html); the plan's ids stay
 * far below the 256 KiB a state's output may hold
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). A larger
 * organisation is offboarded a branch at a time.
 */
export const MAX_OFFBOARDED_SUBTREE = 1000;

/** The statuses offboarding starts from; `deleting` again is a re-run. */
const OFFBOARDABLE = ['active', 'suspended', 'failed', 'deleting'] as const;

/**
 * Offboarding: the tenant — and with `cascade` every tenant below it — is suspended at once (every
 * route answers 403), then one workflow drops their databases, roles, secrets and memberships,
 * leaves first. A tenant with children that are not offboarded is refused (409 naming them)
 * without `cascade`: they would be orphaned. Asking again is safe and answers the same.
 *
 * The subtree is checked and marked under the hierarchy's lock: no child can be created under a
 * tenant being offboarded (its parent must be active), nor a tenant moved into or out of it, so the
 * workflow's plan sees the subtree that was marked.
 */
export async function offboard(deps: OffboardDeps, tenantId: string, options: { cascade?: boolean } = {}) {
  const marked = await deps.control.transaction(async (tx) => {
    const hierarchy = new TenantHierarchy(tx);
    await hierarchy.lock();
    const subtree = (await hierarchy.subtree(tenantId)).filter((t) => t.status !== 'deleted');
    if (!subtree.some((t) => t.id === tenantId)) throw new NotFound('Tenant not found');
    const children = subtree.filter((t) => t.depth === 1).map((t) => t.id);
    if (!options.cascade && children.length > 0) {
      throw new Conflict(
        'The tenant has child tenants that are not offboarded: offboard them first, or ask with ?cascade=true',
        {
          reason: 'has_children',
          children: children.slice(0, MAX_NAMED_CHILDREN),
          childCount: children.length,
        },
      );
    }
    if (subtree.length > MAX_OFFBOARDED_SUBTREE) {
      throw new Conflict(
        `One offboarding takes at most ${MAX_OFFBOARDED_SUBTREE} tenants: offboard a branch first`,
        {
          reason: 'subtree_too_large',
          tenants: subtree.length,
          maxTenants: MAX_OFFBOARDED_SUBTREE,
        },
      );
    }
    const ids = subtree.map((t) => t.id);
    const building = await new DatabaseRegistry(tx).provisioningIn(ids);
    if (building.length > 0) {
      throw new Conflict('A database is still being provisioned; offboard when it has finished', {
        reason: 'database_provisioning',
        tenants: building.slice(0, MAX_NAMED_CHILDREN),
      });
    }
    await refuseWhileMoving(tx, ids);
    const provisioning = subtree.filter((t) => t.status === 'provisioning').map((t) => t.id);
    if (provisioning.length > 0) {
      throw new Conflict('A tenant is still being provisioned; offboard when it has finished', {
        reason: 'tenant_provisioning',
        tenants: provisioning.slice(0, MAX_NAMED_CHILDREN),
      });
    }
    await new TenantRepository(tx).transitionAll(ids, OFFBOARDABLE, 'deleting', 'Offboarding');
    return ids;
  });
  // Every member's answer for each of them goes (a descendant's may be inherited from an ancestor).
  if (marked.length === 1) deps.tenantAccess.invalidate(tenantId);
  else deps.tenantAccess.invalidateAll();
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new NotFound('Tenant not found');
  if (tenant.status === 'deleting') {
    // One input whatever was asked: the workflow plans the subtree itself, so a cascade and a plain
    // repeat of the same offboarding find the running attempt instead of starting a second one.
    await start(deps, offboardingExecutionName(tenantId), { operation: 'offboard', tenantId });
  }
  return { id: tenant.id, status: tenant.status };
}

/** The offboarding of a tenant (and the subtree below it) is named after it: `offboard-<tenantId>`. */
export const offboardingExecutionName = (tenantId: string) => `offboard-${tenantId}`;

export const toDatabaseView = (db: TenantDatabaseRecord) => ({
  id: db.id,
  label: db.label,
  isPrimary: db.isPrimary,
  status: db.status,
  ...(db.restoredFrom ? { restoredFrom: db.restoredFrom } : {}),
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
  // A new database would have the isolation the tenant is leaving.
  await refuseWhileMoving(deps.control, tenantId);
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
      isolation: tenant.isolation,
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
  if ((await deps.databases.movePhase(databaseId)) !== null) {
    throw new Conflict('The database is being moved; drop it once the move has finished', {
      reason: 'database_moving',
    });
  }
  if (record.status === 'provisioning' || record.status === 'restoring') {
    throw new Conflict(
      `The database is still being ${record.status === 'restoring' ? 'restored' : 'provisioned'}`,
    );
  }
  // The transition also forgets this process's cached record: its requests answer 409 at once.
  await deps.databases.transition(databaseId, ['active', 'failed', 'deleting'], 'deleting');
  await start(deps, `drop-${databaseId}`, { operation: 'dropDatabase', tenantId, databaseId });
  return toDatabaseView({ ...record, status: 'deleting' });
}

/**
 * The tenant's status, its databases and its provisioning workflow; while it is being offboarded,
 * also the offboarding (of it and the subtree below it), whose history shows each tenant's step.
 */
export async function provisioningStatus(
  deps: LifecycleDeps & { readonly control: SqlRunner },
  tenantId: string,
) {
  const [tenant, databases, execution, move] = await Promise.all([
    deps.tenants.get(tenantId),
    deps.databases.ofTenant(tenantId),
    currentWorkflow(deps.workflows, provisioningExecutionName(tenantId)),
    latestMove(deps.control, tenantId),
  ]);
  if (!tenant) throw new NotFound('Tenant not found');
  const offboarding =
    tenant.status === 'deleting' || tenant.status === 'deleted'
      ? await currentWorkflow(deps.workflows, offboardingExecutionName(tenantId))
      : null;
  const moveWorkflow = move ? await currentWorkflow(deps.workflows, moveExecutionName(move.moveId)) : null;
  return {
    tenantId,
    status: tenant.status,
    statusReason: tenant.statusReason,
    databases: databases.map(toDatabaseView),
    workflow: workflowView(execution),
    offboarding: workflowView(offboarding),
    move: move ? { ...move, workflow: workflowView(moveWorkflow) } : null,
  };
}
