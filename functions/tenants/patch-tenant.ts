import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { updateSettings } from '#shared/tenancy/lifecycle';
import { toTenantView } from '#shared/tenancy/views';

export const handler = httpHandler(routes.updateTenant, async ({ caller, grant, body }, services) => ({
  status: 200,
  body: toTenantView(await updateSettings(services, grant, caller, body)),
}));
