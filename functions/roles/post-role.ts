import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { saveRole } from '#shared/tenancy/roles';

export const handler = httpHandler(
  routes.createRole,
  async ({ grant, body, idempotency, caller, requestId }, services) => ({
    status: 201,
    body: await saveRole(services, grant, body, idempotency, { userId: caller.userId, requestId }),
  }),
);
