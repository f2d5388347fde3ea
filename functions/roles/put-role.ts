import { httpHandler } from '#shared/http/handler';
import { roleRoutes } from '#shared/routes/role-routes';
import { saveRole } from '#shared/tenancy/roles';

export const handler = httpHandler(roleRoutes.replaceRole, async ({ grant, params, body }, services) => ({
  status: 200,
  body: await saveRole(services, grant, { ...body, roleId: params.roleId }),
}));
