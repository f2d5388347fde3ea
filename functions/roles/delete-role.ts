import { httpHandler } from '#shared/http/handler';
import { roleRoutes } from '#shared/routes/role-routes';
import { deleteRole } from '#shared/tenancy/roles';

export const handler = httpHandler(roleRoutes.deleteRole, async ({ grant, params }, services) => {
  await deleteRole(services, grant, params.roleId);
  return { status: 204 };
});
