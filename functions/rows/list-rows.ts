import { listRows } from '#shared/data/rows';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.listRows, async ({ params, query }, services) => ({
  status: 200,
  body: await listRows(services, params.tenantId, params.databaseId, params.table, query),
}));
