import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { createDatabase } from '#shared/tenancy/lifecycle';

export const handler = httpHandler(
  coreRoutes.createDatabase,
  async ({ params, body, idempotency, caller, requestId }, services) => ({
    status: 202,
    body: await createDatabase(services, params.tenantId, body.label, idempotency, {
      userId: caller.userId,
      requestId,
    }),
  }),
);
