import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { saveRole } from '#shared/tenancy/roles';

export const handler = httpHandler(routes.replaceRole, async ({ grant, params, body }, services) => ({
  status: 200,
  body: await saveRole(services, grant, { ...body, roleId: params.roleId }),
}));
