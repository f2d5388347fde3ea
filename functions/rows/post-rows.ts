import { insertRows, refuseRerun } from '#shared/data/row-batch';
import { httpHandler } from '#shared/http/handler';
import { MINIMAL_RETURN_APPLIED, prefersMinimalReturn } from '#shared/http/prefer';
import { bulkRoutes } from '#shared/routes/bulk-routes';

export const handler = httpHandler(
  bulkRoutes.insertRows,
  async ({ params, body, headers, idempotency }, services) => {
    refuseRerun(idempotency);
    const minimal = prefersMinimalReturn(headers);
    return {
      status: 201,
      body: await insertRows(services, params.tenantId, params.databaseId, params.table, body.rows, {
        minimal,
      }),
      ...(minimal ? { headers: { ...MINIMAL_RETURN_APPLIED } } : {}),
    };
  },
);
