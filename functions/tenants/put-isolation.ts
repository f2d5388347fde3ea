import { httpHandler } from '#shared/http/handler';
import { clusterRoutes } from '#shared/routes/cluster-routes';
import { changeIsolation } from '#shared/tenancy/moves';

export const handler = httpHandler(clusterRoutes.setTenantIsolation, async ({ params, body }, services) => ({
  status: 202,
  body: await changeIsolation(services, params.tenantId, body.isolation),
}));
