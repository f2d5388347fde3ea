import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { updateSettings } from '#shared/tenancy/lifecycle';
import { toTenantView } from '#shared/tenancy/views';

export const handler = httpHandler(coreRoutes.updateTenant, async ({ caller, grant, body }, services) => ({
  status: 200,
  body: toTenantView(await updateSettings(services, grant, caller, body)),
}));
