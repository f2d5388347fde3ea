import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { deleteRole } from '#shared/tenancy/roles';

export const handler = httpHandler(routes.deleteRole, async ({ grant, params }, services) => {
  await deleteRole(services, grant, params.roleId);
  return { status: 204 };
});
