import { httpHandler } from '#shared/http/handler';
import { clusterRoutes } from '#shared/routes/cluster-routes';
import { toClusterView } from '#shared/tenancy/views';

export const handler = httpHandler(clusterRoutes.listClusters, async (_request, services) => ({
  status: 200,
  body: { items: (await services.clusterRegistry.withLoad()).map(toClusterView) },
}));
