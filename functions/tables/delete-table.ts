import { tablesDeps } from '#shared/composition/module-deps';
import { dropTable } from '#shared/data/tables';
import { httpHandler } from '#shared/http/handler';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.dropTable, async ({ params }, services) => {
  await dropTable(tablesDeps(services), params.tenantId, params.databaseId, params.table);
  return { status: 204 };
});
