import { tablesDeps } from '#shared/composition/module-deps';
import { describeTable } from '#shared/data/tables';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.describeTable, async ({ params }, services) => ({
  status: 200,
  body: await describeTable(tablesDeps(services), params.tenantId, params.databaseId, params.table),
}));
