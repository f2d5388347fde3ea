import { backupRoutes } from '#shared/routes/backup-routes';
import { bulkRoutes } from '#shared/routes/bulk-routes';
import { coreRoutes, tenantStatusRoutes } from '#shared/routes/core-routes';
import { dataRoutes } from '#shared/routes/data-routes';
import { hierarchyRoutes } from '#shared/routes/hierarchy-routes';
import { quotaRoutes } from '#shared/routes/quota-routes';
import { recordRoutes } from '#shared/routes/record-routes';
import { roleRoutes } from '#shared/routes/role-routes';
import type { RouteSpec } from '#shared/routes/types';

/**
 * The route table: the one source for API Gateway routes (CDK), the local gateway and the
 * OpenAPI document. Adding a route to one of its groups is all it takes to deploy and serve it.
 * Handlers import their own group (e.g. `dataRoutes`), not this table: a function's bundle then
 * carries its group's schemas only.
 */
export const routes = {
  ...coreRoutes,
  ...roleRoutes,
  ...tenantStatusRoutes,
  ...quotaRoutes,
  ...hierarchyRoutes,
  ...recordRoutes,
  ...dataRoutes,
  ...bulkRoutes,
  ...backupRoutes,
} as const satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof routes;
export const routeList: readonly RouteSpec[] = Object.values(routes);
