import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { dropDatabase } from '#shared/tenancy/lifecycle';

export const handler = httpHandler(coreRoutes.dropDatabase, async ({ params }, services) => ({
  status: 202,
  body: await dropDatabase(services, params.tenantId, params.databaseId),
}));
