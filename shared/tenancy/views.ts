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
