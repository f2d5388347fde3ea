import { hierarchyDeps } from '#shared/composition/hierarchy-deps';
import { httpHandler } from '#shared/http/handler';
import { hierarchyRoutes } from '#shared/routes/hierarchy-routes';
import { moveTenant } from '#shared/tenancy/hierarchy';
import { toTenantView } from '#shared/tenancy/views';

export const handler = httpHandler(
  hierarchyRoutes.setTenantParent,
  async ({ caller, grant, requestId, body }, services) => ({
    status: 200,
    body: toTenantView(
      await moveTenant(hierarchyDeps(services), { caller, grant, requestId }, body.parentId),
    ),
  }),
);
