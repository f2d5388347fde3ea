import { insertRows, refuseRerun } from '#shared/data/row-batch';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.insertRows, async ({ params, body, idempotency }, services) => {
  refuseRerun(idempotency);
  return {
    status: 201,
    body: await insertRows(services, params.tenantId, params.databaseId, params.table, body.rows),
  };
});
