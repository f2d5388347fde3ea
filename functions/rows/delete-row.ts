import { deleteRow } from '#shared/data/rows';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.deleteRow, async ({ params }, services) => {
  await deleteRow(services, params.tenantId, params.databaseId, params.table, params.rowId);
  return { status: 204 };
});
