import { quotaDeps } from '#shared/composition/quota-deps';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { quotasOf } from '#shared/tenancy/quotas';

export const handler = httpHandler(routes.getQuotas, async ({ params }, services) => ({
  status: 200,
  body: await quotasOf(quotaDeps(services), params.tenantId),
}));
