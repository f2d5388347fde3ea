import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { toTenantInvitation } from '#shared/tenancy/invitations';

export const handler = httpHandler(routes.listInvitations, async ({ params, query }, services) => {
  const page = await services.invitations.listForTenant(params.tenantId, query.limit, query.cursor);
  return { status: 200, body: { ...page, items: page.items.map(toTenantInvitation) } };
});
