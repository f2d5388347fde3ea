import { deleteRow } from '#shared/data/rows';
import { httpHandler } from '#shared/http/handler';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.deleteRow, async ({ params }, services) => {
  await deleteRow(services, params.tenantId, params.databaseId, params.table, params.rowId);
  return { status: 204 };
});
