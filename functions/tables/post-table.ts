import { tablesDeps } from '#shared/composition/module-deps';
import { createTable } from '#shared/data/tables';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.createTable, async ({ params, body }, services) => ({
  status: 201,
  body: await createTable(tablesDeps(services), params.tenantId, params.databaseId, body),
}));
