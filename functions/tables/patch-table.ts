import { tablesDeps } from '#shared/composition/module-deps';
import { alterTable } from '#shared/data/tables';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.alterTable, async ({ params, body }) => ({
  status: 200,
  body: await alterTable(tablesDeps(), params.tenantId, params.databaseId, params.table, body),
}));
