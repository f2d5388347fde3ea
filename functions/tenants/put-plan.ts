import { quotaDeps } from '#shared/composition/quota-deps';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { changePlan } from '#shared/tenancy/plan-change';

export const handler = httpHandler(routes.setTenantPlan, async ({ params, body }, services) => ({
  status: 200,
  body: await changePlan(quotaDeps(services), params.tenantId, body),
}));
