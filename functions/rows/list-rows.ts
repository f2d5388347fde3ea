import { listRows } from '#shared/data/rows';
import { httpHandler } from '#shared/http/handler';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.listRows, async ({ params, query }, services) => ({
  status: 200,
  body: await listRows(services, params.tenantId, params.databaseId, params.table, query),
}));
