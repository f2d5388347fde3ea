import { httpHandler } from '#shared/http/handler';
import { clusterRoutes } from '#shared/routes/cluster-routes';
import { changeCluster } from '#shared/tenancy/cluster-admin';
import { toClusterView } from '#shared/tenancy/views';

export const handler = httpHandler(clusterRoutes.updateCluster, async ({ params, body }, services) => ({
  status: 200,
  body: toClusterView(await changeCluster(services, params.clusterId, body)),
}));
