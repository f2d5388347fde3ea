import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { services } from '#shared/runtime';
import { registerTenant } from '#shared/tenancy/register-tenant';
import { toTenantView } from '#shared/tenancy/views';

export const handler = httpHandler(routes.registerTenant, async ({ caller, body }) => {
  const tenant = await registerTenant(services(), { userId: caller.userId, email: caller.email }, body);
  return { status: 202, body: toTenantView(tenant), headers: { location: `/tenants/${tenant.id}` } };
});
