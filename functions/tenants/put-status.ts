import { httpHandler } from '#shared/http/handler';
import { tenantStatusRoutes } from '#shared/routes/core-routes';
import { changeTenantStatus } from '#shared/tenancy/suspension';
import { toTenantView } from '#shared/tenancy/views';

export const handler = httpHandler(
  tenantStatusRoutes.setTenantStatus,
  async ({ params, body, caller }, services) => ({
    status: 200,
    body: toTenantView(await changeTenantStatus(services, params.tenantId, body, caller.userId)),
  }),
);
