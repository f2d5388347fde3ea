import type { TenantRecord } from '#shared/control/control-records';
import { DatabaseRegistry } from '#shared/control/database-registry';
import { IDEMPOTENCY_TTL_SECONDS } from '#shared/control/idempotency-records';
import { newDatabaseId, newTenantId } from '#shared/control/ids';
import { TenantHierarchy } from '#shared/control/tenant-hierarchy';
import { TenantRepository } from '#shared/control/tenant-repository';
import { DEFAULT_PLAN_SETTINGS, isolationOf, type PlanSettings } from '#shared/domain/plans';
import { SqlConstraintViolation, type SqlRunner } from '#shared/ports/sql';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { roleNameFor } from '#shared/provisioning/names';
import { assertKnownPlan } from '#shared/tenancy/plan-change';
import { DEFAULT_SETTINGS, type TenantSettings } from '#shared/tenancy/settings';
import { startWorkflow } from '#shared/workflows/attempts';
import type { ProvisioningInput } from '#shared/workflows/provisioning';

export interface RegisterDeps {
  readonly control: SqlRunner;
  readonly tenants: TenantRepository;
  readonly workflows: WorkflowStarter;
  /** The deployment's plans: a new tenant gets the default one. */
  readonly settings: { readonly plans?: PlanSettings };
}

/**
 * The tenant an earlier request with this idempotency key registered (in the last 24 h: the key's
 * life, IDEMPOTENCY_TTL_SECONDS), its workflow started again
 * while the tenant is still provisioning: a no-op while the workflow runs (the execution is named
 * after the tenant), the next attempt if it closed unfinished (that request failed between the
 * two, or the execution was interrupted).
 */
async function registeredWith(deps: RegisterDeps, userId: string, key: string): Promise<TenantRecord | null> {
  const [row] = await deps.control.query<{ tenantId: string; databaseId: string | null }>(
    `select r.tenant_id as "tenantId",
            (select d.id from tenant_databases d where d.tenant_id = r.tenant_id and d.is_primary) as "databaseId"
       from tenant_registrations r
      where r.user_id = :userId and r.idempotency_key = :key
        and r.created_at > now() - make_interval(secs => :ttl)`,
    { userId, key, ttl: IDEMPOTENCY_TTL_SECONDS },
  );
  if (!row) return null;
  const tenant = await deps.tenants.get(row.tenantId);
  if (tenant?.status === 'provisioning' && row.databaseId) {
    const input: ProvisioningInput = {
      operation: 'provision',
      tenantId: row.tenantId,
      databaseId: row.databaseId,
    };
    await startWorkflow(deps.workflows, provisioningExecutionName(row.tenantId), input);
  }
  return tenant;
}

/**
 * The provisioning of a tenant is named after it: starting it twice starts it once. A re-run after
 * it closed is its next attempt, `provision-<tenantId>-a2`, … (shared/workflows/attempts.ts).
 */
export const provisioningExecutionName = (tenantId: string) => `provision-${tenantId}`;

export const PRIMARY_DATABASE_LABEL = 'main';

/**
 * Registers a tenant: the tenant (status `provisioning`, the deployment's default plan), its owner's membership and its primary
 * database record in one transaction, then the provisioning workflow. If the workflow cannot be
 * started the tenant is marked `failed` rather than left provisioning forever.
 *
 * A child (`parentId`; the caller checked `tenants:createChild` there) is placed under its parent
 * in the same transaction, under the hierarchy's lock: the parent must be active and above the
 * deepest level. It starts on its parent's plan (a platform admin may change it).
 */
export async function registerTenant(
  deps: RegisterDeps,
  owner: { userId: string; email: string },
  /** `plan`: a platform admin's choice (the handler checked the caller); else the default or the parent's. */
  input: TenantSettings & { name: string; parentId?: string | undefined; plan?: string | undefined },
  idempotencyKey?: string,
): Promise<TenantRecord> {
  if (idempotencyKey) {
    const earlier = await registeredWith(deps, owner.userId, idempotencyKey);
    if (earlier) return earlier;
  }
  const { name, parentId, plan: chosenPlan, ...settings } = input;
  const plans = deps.settings.plans ?? DEFAULT_PLAN_SETTINGS;
  if (chosenPlan !== undefined) assertKnownPlan(plans, chosenPlan);
  const tenantId = newTenantId();
  const databaseId = newDatabaseId();
  let tenant: TenantRecord;
  try {
    tenant = await deps.control.transaction(async (tx) => {
      const place = parentId ? await new TenantHierarchy(tx).placeUnder(parentId) : null;
      const plan = chosenPlan ?? place?.plan ?? plans.defaultPlan;
      const created = await new TenantRepository(tx).create({
        tenantId,
        name,
        settings: { ...DEFAULT_SETTINGS, ...settings },
        owner,
        status: 'provisioning',
        plan,
        isolation: isolationOf(plans, plan),
        ...(parentId && place ? { parent: { id: parentId, path: place.path } } : {}),
      });
      await new DatabaseRegistry(tx).create({
        id: databaseId,
        tenantId,
        label: PRIMARY_DATABASE_LABEL,
        isPrimary: true,
        isolation: created.isolation,
        roleName: roleNameFor(tenantId),
      });
      if (idempotencyKey) {
        // A key names its registration as long as an Idempotency-Key names its request (24 h);
        // then it may register another tenant.
        await tx.execute(
          `delete from tenant_registrations where user_id = :userId and idempotency_key = :key
              and created_at <= now() - make_interval(secs => :ttl)`,
          { userId: owner.userId, key: idempotencyKey, ttl: IDEMPOTENCY_TTL_SECONDS },
        );
        await tx.execute(
          'insert into tenant_registrations (user_id, idempotency_key, tenant_id) values (:userId, :key, :tenantId)',
          { userId: owner.userId, key: idempotencyKey, tenantId },
        );
      }
      return created;
    });
  } catch (error) {
    // The same key sent twice at once: the other request registered it; answer with that tenant.
    const earlier =
      idempotencyKey && error instanceof SqlConstraintViolation && error.kind === 'unique'
        ? await registeredWith(deps, owner.userId, idempotencyKey)
        : null;
    if (earlier) return earlier;
    throw error;
  }
  const workflowInput: ProvisioningInput = { operation: 'provision', tenantId, databaseId };
  try {
    await startWorkflow(deps.workflows, provisioningExecutionName(tenantId), workflowInput);
  } catch (error) {
    await deps.tenants.transition(
      tenantId,
      ['provisioning'],
      'failed',
      'The provisioning workflow could not start',
    );
    throw error;
  }
  return tenant;
}
