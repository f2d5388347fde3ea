import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { toDatabaseView } from '#shared/tenancy/lifecycle';

export const handler = httpHandler(coreRoutes.listDatabases, async ({ params, query }, services) => {
  const page = await services.databases.list(params.tenantId, query.limit, query.cursor);
  return { status: 200, body: { items: page.items.map(toDatabaseView), nextCursor: page.nextCursor } };
});
