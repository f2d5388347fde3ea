import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { toTenantInvitation } from '#shared/tenancy/invitations';

export const handler = httpHandler(coreRoutes.listInvitations, async ({ params, query }, services) => {
  const page = await services.invitations.listForTenant(params.tenantId, query.limit, query.cursor);
  return { status: 200, body: { ...page, items: page.items.map(toTenantInvitation) } };
});
