import { tablesDeps } from '#shared/composition/module-deps';
import { alterTable } from '#shared/data/tables';
import { httpHandler } from '#shared/http/handler';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.alterTable, async ({ params, body }, services) => ({
  status: 200,
  body: await alterTable(tablesDeps(services), params.tenantId, params.databaseId, params.table, body),
}));
