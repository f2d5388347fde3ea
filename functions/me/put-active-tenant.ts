import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { switchActiveTenant } from '#shared/tenancy/me';

export const handler = httpHandler(coreRoutes.setActiveTenant, async ({ caller, body }, services) => ({
  status: 200,
  body: await switchActiveTenant(services, caller, body.tenantId),
}));
