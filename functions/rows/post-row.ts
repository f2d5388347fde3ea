import { insertRow } from '#shared/data/rows';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.insertRow, async ({ params, body, idempotency }, services) => ({
  status: 201,
  body: await insertRow(services, params.tenantId, params.databaseId, params.table, body, idempotency),
}));
