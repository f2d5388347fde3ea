import { httpHandler } from '#shared/http/handler';
import { clusterRoutes } from '#shared/routes/cluster-routes';
import { moveDatabase } from '#shared/tenancy/moves';

export const handler = httpHandler(
  clusterRoutes.moveDatabase,
  async ({ params, body, idempotency }, services) => ({
    status: 202,
    body: await moveDatabase(services, params.tenantId, params.databaseId, body.clusterId, idempotency),
  }),
);
