import { insertRow } from '#shared/data/rows';
import { httpHandler } from '#shared/http/handler';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.insertRow, async ({ params, body, idempotency }, services) => ({
  status: 201,
  body: await insertRow(services, params.tenantId, params.databaseId, params.table, body, idempotency),
}));
