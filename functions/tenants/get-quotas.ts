import { quotaDeps } from '#shared/composition/quota-deps';
import { httpHandler } from '#shared/http/handler';
import { quotaRoutes } from '#shared/routes/quota-routes';
import { quotasOf } from '#shared/tenancy/quotas';

export const handler = httpHandler(quotaRoutes.getQuotas, async ({ params }, services) => ({
  status: 200,
  body: await quotasOf(quotaDeps(services), params.tenantId),
}));
