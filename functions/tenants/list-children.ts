import { hierarchyDeps } from '#shared/composition/hierarchy-deps';
import { httpHandler } from '#shared/http/handler';
import { hierarchyRoutes } from '#shared/routes/hierarchy-routes';
import { listChildren } from '#shared/tenancy/hierarchy';

export const handler = httpHandler(
  hierarchyRoutes.listTenantChildren,
  async ({ params, query }, services) => ({
    status: 200,
    body: await listChildren(hierarchyDeps(services), params.tenantId, query),
  }),
);
