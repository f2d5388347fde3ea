import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { changeTenantStatus } from '#shared/tenancy/suspension';
import { toTenantView } from '#shared/tenancy/views';

export const handler = httpHandler(routes.setTenantStatus, async ({ params, body, caller }, services) => ({
  status: 200,
  body: toTenantView(await changeTenantStatus(services, params.tenantId, body, caller.userId)),
}));
