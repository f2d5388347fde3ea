import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { toDatabaseView } from '#shared/tenancy/lifecycle';

export const handler = httpHandler(routes.listDatabases, async ({ params, query }, services) => {
  const page = await services.databases.list(params.tenantId, query.limit, query.cursor);
  return { status: 200, body: { items: page.items.map(toDatabaseView), nextCursor: page.nextCursor } };
});
