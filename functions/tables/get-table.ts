import { tablesDeps } from '#shared/composition/module-deps';
import { describeTable } from '#shared/data/tables';
import { httpHandler } from '#shared/http/handler';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.describeTable, async ({ params }, services) => ({
  status: 200,
  body: await describeTable(tablesDeps(services), params.tenantId, params.databaseId, params.table),
}));
