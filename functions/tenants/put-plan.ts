import { quotaDeps } from '#shared/composition/quota-deps';
import { httpHandler } from '#shared/http/handler';
import { quotaRoutes } from '#shared/routes/quota-routes';
import { changePlan } from '#shared/tenancy/plan-change';

export const handler = httpHandler(quotaRoutes.setTenantPlan, async ({ params, body }, services) => ({
  status: 200,
  body: await changePlan(quotaDeps(services), params.tenantId, body),
}));
