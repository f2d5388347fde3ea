import { httpHandler } from '#shared/http/handler';
import { clusterRoutes } from '#shared/routes/cluster-routes';
import { pinTenant } from '#shared/tenancy/cluster-admin';
import { toTenantView } from '#shared/tenancy/views';

export const handler = httpHandler(clusterRoutes.setTenantPlacement, async ({ params, body }, services) => ({
  status: 200,
  body: toTenantView(await pinTenant(services, params.tenantId, body.clusterId)),
}));
