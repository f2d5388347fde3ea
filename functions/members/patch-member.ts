import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { changeMemberRole } from '#shared/tenancy/members';

export const handler = httpHandler(routes.changeMemberRole, async ({ grant, params, body }, services) => ({
  status: 200,
  body: await changeMemberRole(services, grant, params.userId, body.role),
}));
