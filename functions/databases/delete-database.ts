import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { dropDatabase } from '#shared/tenancy/lifecycle';

export const handler = httpHandler(routes.dropDatabase, async ({ params }, services) => ({
  status: 202,
  body: await dropDatabase(services, params.tenantId, params.databaseId),
}));
