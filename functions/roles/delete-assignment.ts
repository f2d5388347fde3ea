import { httpHandler } from '#shared/http/handler';
import { roleRoutes } from '#shared/routes/role-routes';
import { unassignRole } from '#shared/tenancy/roles';

export const handler = httpHandler(roleRoutes.unassignRole, async ({ grant, params }, services) => {
  await unassignRole(services, grant, params.userId, params.roleId);
  return { status: 204 };
});
