import { getRow } from '#shared/data/rows';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.getRow, async ({ params }, services) => ({
  status: 200,
  body: await getRow(services, params.tenantId, params.databaseId, params.table, params.rowId),
}));
