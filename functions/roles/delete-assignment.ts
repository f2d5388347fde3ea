import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { unassignRole } from '#shared/tenancy/roles';

export const handler = httpHandler(routes.unassignRole, async ({ grant, params }, services) => {
  await unassignRole(services, grant, params.userId, params.roleId);
  return { status: 204 };
});
