import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { changeMemberRole } from '#shared/tenancy/members';

export const handler = httpHandler(
  coreRoutes.changeMemberRole,
  async ({ grant, params, body }, services) => ({
    status: 200,
    body: await changeMemberRole(services, grant, params.userId, body.role),
  }),
);
