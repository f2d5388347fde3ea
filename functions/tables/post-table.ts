import { tableQuotaDeps } from '#shared/composition/quota-deps';
import { httpHandler } from '#shared/http/handler';
import { dataRoutes } from '#shared/routes/data-routes';
import { createTableWithinQuota } from '#shared/tenancy/table-quota';

export const handler = httpHandler(
  dataRoutes.createTable,
  async ({ params, body, caller, requestId }, services) => ({
    status: 201,
    body: await createTableWithinQuota(tableQuotaDeps(services), params.tenantId, params.databaseId, body, {
      userId: caller.userId,
      requestId,
    }),
  }),
);
