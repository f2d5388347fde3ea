import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { services } from '#shared/runtime';
import { toRoleView } from '#shared/tenancy/roles';

export const handler = httpHandler(routes.listRoles, async ({ params }) => ({
  status: 200,
  body: { items: (await services().directory.listRoles(params.tenantId)).map(toRoleView) },
}));
