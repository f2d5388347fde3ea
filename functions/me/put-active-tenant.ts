import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { switchActiveTenant } from '#shared/tenancy/me';

export const handler = httpHandler(routes.setActiveTenant, async ({ caller, body }, services) => ({
  status: 200,
  body: await switchActiveTenant(services, caller, body.tenantId),
}));
