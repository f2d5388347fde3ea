import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { moveTenant } from '#shared/tenancy/hierarchy';
import { toTenantView } from '#shared/tenancy/views';

export const handler = httpHandler(
  routes.setTenantParent,
  async ({ caller, grant, requestId, body }, services) => ({
    status: 200,
    body: toTenantView(await moveTenant(services, { caller, grant, requestId }, body.parentId)),
  }),
);
