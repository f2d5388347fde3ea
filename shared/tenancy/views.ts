import type { TenantRecord } from '#shared/control/control-records';

/** A tenant as the API shows it: no internal columns. */
export const toTenantView = (tenant: TenantRecord) => ({
  id: tenant.id,
  name: tenant.name,
  status: tenant.status,
  statusReason: tenant.statusReason,
  settings: tenant.settings,
  enabledModules: tenant.enabledModules,
  plan: tenant.plan,
  createdAt: tenant.createdAt,
  updatedAt: tenant.updatedAt,
});

export const toTenantSummary = (tenant: TenantRecord) => ({
  id: tenant.id,
  name: tenant.name,
  status: tenant.status,
  createdAt: tenant.createdAt,
});
