import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { offboard } from '#shared/tenancy/lifecycle';

export const handler = httpHandler(routes.offboardTenant, async ({ params, query }, services) => ({
  status: 202,
  body: await offboard(services, params.tenantId, { cascade: query.cascade }),
}));
