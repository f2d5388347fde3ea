import type { ControlTenantAccess } from '#shared/control/access-policy';
import type { TenantRepository } from '#shared/control/tenant-repository';
import { mergeOverrides, type PlanChange } from '#shared/domain/plans';
import { NotFound, ValidationFailed } from '#shared/errors';
import { plansOf, type QuotaReadDeps, type QuotasView, quotasOf } from '#shared/tenancy/quotas';

export interface PlanChangeDeps extends QuotaReadDeps {
  readonly tenants: Pick<TenantRepository, 'get' | 'setPlan'>;
  readonly tenantAccess: Pick<ControlTenantAccess, 'invalidate'>;
}

/**
 * Puts a tenant on a plan (platform admins): the plan must be in the deployment's catalogue, the
 * overrides are merged into the tenant's (`null` drops one). A lower limit than the tenant uses
 * refuses new creations only; nothing existing is removed. Answers the tenant's quotas.
 */
export async function changePlan(
  deps: PlanChangeDeps,
  tenantId: string,
  change: PlanChange,
): Promise<QuotasView> {
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant || tenant.status === 'deleted') throw new NotFound('Tenant not found');
  const catalogue = plansOf(deps).plans;
  if (!catalogue[change.plan]) {
    const known = Object.keys(catalogue).sort().join(', ');
    throw new ValidationFailed(`Unknown plan ${change.plan}`, {
      details: [
        {
          location: 'body',
          path: 'plan',
          code: 'unknown_plan',
          message: `no plan "${change.plan}" in this deployment (plans: ${known})`,
        },
      ],
    });
  }
  const overrides = mergeOverrides(tenant.planOverrides, change.overrides);
  if (!(await deps.tenants.setPlan(tenantId, change.plan, overrides))) throw new NotFound('Tenant not found');
  // This function's cached grants carry the old limits; counted checks read the row itself.
  deps.tenantAccess.invalidate(tenantId);
  return quotasOf(deps, tenantId);
}
