import { tablesDeps } from '#shared/composition/module-deps';
import { listTenantTables } from '#shared/data/tables';
import { httpHandler } from '#shared/http/handler';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.listTables, async ({ params, query }, services) => ({
  status: 200,
  body: await listTenantTables(
    tablesDeps(services),
    params.tenantId,
    params.databaseId,
    query.limit,
    query.cursor,
  ),
}));
