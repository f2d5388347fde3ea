import { NotFound } from '#shared/errors';
import { httpHandler } from '#shared/http/handler';
import { roleRoutes } from '#shared/routes/role-routes';
import { assignRole } from '#shared/tenancy/roles';

export const handler = httpHandler(roleRoutes.assignRole, async ({ grant, params }, services) => {
  await assignRole(services, grant, params.userId, params.roleId);
  const member = await services.memberships.get(params.tenantId, params.userId);
  if (!member) throw new NotFound('Member not found');
  return { status: 200, body: member };
});
