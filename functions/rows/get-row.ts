import { getRow } from '#shared/data/rows';
import { httpHandler } from '#shared/http/handler';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.getRow, async ({ params }, services) => ({
  status: 200,
  body: await getRow(services, params.tenantId, params.databaseId, params.table, params.rowId),
}));
