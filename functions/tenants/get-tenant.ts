import { NotFound } from '#shared/errors';
import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { toTenantView } from '#shared/tenancy/views';

export const handler = httpHandler(coreRoutes.getTenant, async ({ params }, services) => {
  const tenant = await services.tenants.get(params.tenantId);
  if (!tenant) throw new NotFound('Tenant not found');
  return { status: 200, body: toTenantView(tenant) };
});
