import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { toTenantSummary } from '#shared/tenancy/views';

export const handler = httpHandler(routes.listTenants, async ({ query }, services) => {
  const page = await services.tenants.list(query.limit, query.cursor);
  return { status: 200, body: { items: page.items.map(toTenantSummary), nextCursor: page.nextCursor } };
});
