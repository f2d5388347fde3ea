import type { ControlTenantAccess } from '#shared/control/access-policy';
import type { TenantRepository } from '#shared/control/tenant-repository';
import { isolationOf, mergeOverrides, type PlanChange, type PlanSettings } from '#shared/domain/plans';
import { NotFound, ValidationFailed } from '#shared/errors';
import { changeIsolation, type MoveDeps, type MoveView } from '#shared/tenancy/moves';
import { plansOf, type QuotaReadDeps, type QuotasView, quotasOf } from '#shared/tenancy/quotas';

export interface PlanChangeDeps extends QuotaReadDeps, MoveDeps {
  readonly tenants: Pick<TenantRepository, 'get' | 'setPlan'>;
  readonly tenantAccess: Pick<ControlTenantAccess, 'invalidate'>;
}

/**
 * Puts a tenant on a plan (platform admins): the plan must be in the deployment's catalogue, the
 * overrides are merged into the tenant's (`null` drops one). A lower limit than the tenant uses
 * refuses new creations only; nothing existing is removed. Answers the tenant's quotas.
 */
/** A 400 naming the deployment's plans when `plan` is not one of them. */
export function assertKnownPlan(settings: PlanSettings, plan: string): void {
  if (settings.plans[plan]) return;
  const known = Object.keys(settings.plans).sort().join(', ');
  throw new ValidationFailed(`Unknown plan ${plan}`, {
    details: [
      {
        location: 'body',
        path: 'plan',
        code: 'unknown_plan',
        message: `no plan "${plan}" in this deployment (plans: ${known})`,
      },
    ],
  });
}

export async function changePlan(
  deps: PlanChangeDeps,
  tenantId: string,
  change: PlanChange,
): Promise<QuotasView & { move?: MoveView }> {
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant || tenant.status === 'deleted') throw new NotFound('Tenant not found');
  const plans = plansOf(deps);
  assertKnownPlan(plans, change.plan);
  // A plan of the other isolation moves the tenant's databases there first (docs/isolation-modes.md,
  // "Moves"): refused as the move is (409) and then nothing changes; started, the plan is set.
  const isolation = isolationOf(plans, change.plan);
  const move = isolation !== tenant.isolation ? await changeIsolation(deps, tenantId, isolation) : null;
  const overrides = mergeOverrides(tenant.planOverrides, change.overrides);
  if (!(await deps.tenants.setPlan(tenantId, change.plan, overrides))) throw new NotFound('Tenant not found');
  // This function's cached grants carry the old limits; counted checks read the row itself.
  deps.tenantAccess.invalidate(tenantId);
  const quotas = await quotasOf(deps, tenantId);
  return move ? { ...quotas, move } : quotas;
}
