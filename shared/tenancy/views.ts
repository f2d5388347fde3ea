import type { ClusterWithLoad } from '#shared/control/cluster-registry';
import type { TenantRecord } from '#shared/control/control-records';
import { pathIds } from '#shared/control/tenant-paths';

/** A tenant as the API shows it: no internal columns. */
export const toTenantView = (tenant: TenantRecord) => ({
  id: tenant.id,
  name: tenant.name,
  status: tenant.status,
  statusReason: tenant.statusReason,
  settings: tenant.settings,
  enabledModules: tenant.enabledModules,
  plan: tenant.plan,
  isolation: tenant.isolation,
  parentId: tenant.parentId,
  path: pathIds(tenant.path),
  inheritAccess: tenant.inheritAccess,
  pinnedClusterId: tenant.pinnedClusterId,
  createdAt: tenant.createdAt,
  updatedAt: tenant.updatedAt,
});

export const toTenantSummary = (tenant: TenantRecord) => ({
  id: tenant.id,
  name: tenant.name,
  status: tenant.status,
  plan: tenant.plan,
  isolation: tenant.isolation,
  parentId: tenant.parentId,
  createdAt: tenant.createdAt,
});

/** A cluster as `GET /clusters` shows it: no timestamps (the registry's own). */
export const toClusterView = (cluster: ClusterWithLoad) => ({
  id: cluster.id,
  name: cluster.name,
  state: cluster.state,
  capacity: cluster.capacity,
  tenants: cluster.tenants,
  databases: cluster.databases,
  poolDatabases: cluster.poolDatabases,
});
