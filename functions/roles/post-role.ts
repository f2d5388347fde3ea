import { httpHandler } from '#shared/http/handler';
import { roleRoutes } from '#shared/routes/role-routes';
import { saveRole } from '#shared/tenancy/roles';

export const handler = httpHandler(
  roleRoutes.createRole,
  async ({ grant, body, idempotency, caller, requestId }, services) => ({
    status: 201,
    body: await saveRole(services, grant, body, idempotency, { userId: caller.userId, requestId }),
  }),
);
