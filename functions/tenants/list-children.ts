import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { listChildren } from '#shared/tenancy/hierarchy';

export const handler = httpHandler(routes.listTenantChildren, async ({ params, query }, services) => ({
  status: 200,
  body: await listChildren(services, params.tenantId, query),
}));
