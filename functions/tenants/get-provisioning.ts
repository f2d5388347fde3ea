import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { provisioningStatus } from '#shared/tenancy/lifecycle';

export const handler = httpHandler(coreRoutes.getProvisioning, async ({ params }, services) => ({
  status: 200,
  body: await provisioningStatus(services, params.tenantId),
}));
