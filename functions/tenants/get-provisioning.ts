import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { provisioningStatus } from '#shared/tenancy/lifecycle';

export const handler = httpHandler(routes.getProvisioning, async ({ params }, services) => ({
  status: 200,
  body: await provisioningStatus(services, params.tenantId),
}));
