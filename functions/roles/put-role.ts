import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { services } from '#shared/runtime';
import { saveRole } from '#shared/tenancy/roles';

export const handler = httpHandler(routes.replaceRole, async ({ grant, params, body }) => ({
  status: 200,
  body: await saveRole(services(), grant, { ...body, roleId: params.roleId }),
}));
