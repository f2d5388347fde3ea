import { analyticsRoutes } from '#shared/routes/analytics-routes';
import { backupRoutes, cloneRoutes, restoreRoutes } from '#shared/routes/backup-routes';
import { bulkRoutes } from '#shared/routes/bulk-routes';
import { clusterRoutes } from '#shared/routes/cluster-routes';
import { complianceExportRoutes } from '#shared/routes/compliance-export-routes';
import { complianceRoutes } from '#shared/routes/compliance-routes';
import { coreRoutes, tenantStatusRoutes } from '#shared/routes/core-routes';
import { dataRoutes } from '#shared/routes/data-routes';
import { hierarchyRoutes } from '#shared/routes/hierarchy-routes';
import { quotaRoutes } from '#shared/routes/quota-routes';
import { recordRoutes } from '#shared/routes/record-routes';
import { roleRoutes } from '#shared/routes/role-routes';
import type { RouteSpec } from '#shared/routes/types';

/**
 * The route groups, one per `shared/routes/*-routes.ts` file. The CDK app deploys each group's
 * functions in a stack of its own (infra/stacks/api-functions-stack.ts), named after the group's
 * key: a new group is a new stack, a new route of a group lands in that group's stack, and no
 * function ever moves to another stack unless its route moves to another group. So a key, once
 * deployed, is never renamed (that would replace every function of the group).
 */
export const routeGroups = {
  core: { ...coreRoutes, ...tenantStatusRoutes },
  roles: roleRoutes,
  quotas: quotaRoutes,
  hierarchy: hierarchyRoutes,
  records: recordRoutes,
  data: dataRoutes,
  bulk: bulkRoutes,
  backups: { ...backupRoutes, ...restoreRoutes, ...cloneRoutes },
  clusters: clusterRoutes,
  reports: { ...complianceRoutes, ...complianceExportRoutes, ...analyticsRoutes },
} as const satisfies Record<string, Record<string, RouteSpec>>;

export type RouteGroup = keyof typeof routeGroups;

type Groups = typeof routeGroups;
type IntersectionOf<U> = (U extends unknown ? (member: U) => void : never) extends (all: infer I) => void
  ? I
  : never;

/**
 * The route table: the one source for API Gateway routes (CDK), the local gateway and the
 * OpenAPI document, the union of the groups. Adding a route to one of its groups is all it takes
 * to deploy and serve it. Handlers import their own group (e.g. `dataRoutes`), not this table: a
 * function's bundle then carries its group's schemas only.
 */
export const routes: IntersectionOf<Groups[RouteGroup]> = Object.assign(
  {},
  ...Object.values(routeGroups),
) as IntersectionOf<Groups[RouteGroup]>;

export type RouteId = keyof typeof routes;
export const routeList: readonly RouteSpec[] = Object.values(routes);
