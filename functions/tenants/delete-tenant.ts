import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { offboard } from '#shared/tenancy/lifecycle';

export const handler = httpHandler(coreRoutes.offboardTenant, async ({ params, query }, services) => ({
  status: 202,
  body: await offboard(services, params.tenantId, { cascade: query.cascade }),
}));
