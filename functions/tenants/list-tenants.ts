import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { toTenantSummary } from '#shared/tenancy/views';

export const handler = httpHandler(coreRoutes.listTenants, async ({ query }, services) => {
  const page = await services.tenants.list(query.limit, query.cursor);
  return { status: 200, body: { items: page.items.map(toTenantSummary), nextCursor: page.nextCursor } };
});
