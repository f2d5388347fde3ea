import * as z from 'zod';
import { COUNTED_LIMITS, LIMIT_NAMES, planChangeSchema } from '#shared/domain/plans';
import { error, inTenant, signedIn } from '#shared/routes/responses';
import { moveSchema, tenantParams } from '#shared/routes/schemas';
import { defineRoute, type RouteSpec } from '#shared/routes/types';

const count = z.number().int().nonnegative();

/** `GET …/quotas` and the answer of a plan change: the plan, its effective limits and the usage. */
export const quotasSchema = z.object({
  plan: z.string(),
  /** Plan and overrides; every limit a non-negative integer (there is no "unlimited"). */
  limits: z.object(Object.fromEntries(LIMIT_NAMES.map((name) => [name, count]))),
  /** Every counted limit; the rate limits (`requestsPerSecond`, `burst`) have no usage. */
  usage: z.object(Object.fromEntries(COUNTED_LIMITS.map((name) => [name, count]))),
});

/** Plans and quotas (issue 15; docs/plans-and-quotas.md). */
export const quotaRoutes = {
  getQuotas: defineRoute({
    operationId: 'getQuotas',
    method: 'GET',
    path: '/tenants/{tenantId}/quotas',
    summary:
      "The tenant's plan, its effective limits (plan and overrides) and the current usage of each counted limit",
    tags: ['tenants'],
    access: { kind: 'tenant', permission: 'tenant:read' },
    handler: 'tenants/get-quotas',
    needs: ['controlDb', 'tenantData', 'usageRecords', 'plans', 'telemetry'],
    exemptFromMonthlyQuota: true,
    request: { params: tenantParams },
    responses: { 200: { description: 'Plan, limits and usage', schema: quotasSchema }, ...inTenant },
  }),
  setTenantPlan: defineRoute({
    operationId: 'setTenantPlan',
    method: 'PUT',
    path: '/tenants/{tenantId}/plan',
    summary:
      "Put a tenant on a plan and merge its limit overrides (`null` drops one); platform admins. A limit lowered below the tenant's usage refuses new creations only. A plan of the other isolation first starts the move of every database there (as `PUT …/isolation`; the answer's `move`).",
    tags: ['tenants'],
    access: { kind: 'platform', groups: ['platform-admin'] },
    handler: 'tenants/put-plan',
    needs: ['controlDb', 'tenantData', 'usageRecords', 'plans', 'workflows', 'telemetry'],
    request: { params: tenantParams, body: planChangeSchema },
    responses: {
      200: {
        description: "The tenant's plan, limits and usage; with `move` when the plan's isolation starts one",
        schema: quotasSchema.extend({ move: moveSchema.optional() }),
      },
      ...signedIn,
      400: error('Invalid input: an unknown plan (`unknown_plan`) or limit name'),
      403: error('Platform admins only'),
      404: error('Unknown tenant'),
      409: error('The isolation move the plan needs is refused (see `PUT …/isolation`)'),
    },
  }),
} as const satisfies Record<string, RouteSpec>;
