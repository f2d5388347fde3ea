import { httpHandler } from '#shared/http/handler';
import { roleRoutes } from '#shared/routes/role-routes';
import { toRoleView } from '#shared/tenancy/roles';

export const handler = httpHandler(roleRoutes.listRoles, async ({ params, query }, services) => {
  const page = await services.customRoles.list(params.tenantId, query.limit, query.cursor);
  return { status: 200, body: { items: page.items.map(toRoleView), nextCursor: page.nextCursor } };
});
