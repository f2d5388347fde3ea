import { lazily } from '#shared/composition/lazy';
import { tablesDeps } from '#shared/composition/module-deps';
import type { Services } from '#shared/composition/services';
import { countTables } from '#shared/data/catalog';
import { openTenantDatabase } from '#shared/data/tenant-database';
import type { PlanChangeDeps } from '#shared/tenancy/plan-change';
import { meteredUsageFrom } from '#shared/tenancy/quotas';
import type { TableQuotaDeps } from '#shared/tenancy/table-quota';

/** What the quota answer and a plan change read: control, each active database's catalog, usage. */
export function quotaDeps(s: Services): PlanChangeDeps {
  return lazily<PlanChangeDeps>({
    control: () => s.control,
    workflows: () => s.workflows,
    settings: () => s.settings,
    tenants: () => s.tenants,
    tenantAccess: () => s.tenantAccess,
    databases: () => s.databases,
    tablesIn: () => async (tenantId, databaseId) =>
      countTables((await openTenantDatabase(s, tenantId, databaseId)).sql),
    meteredUsage: () => meteredUsageFrom(s.records.usage),
  });
}

/** Creating a table: the tables dependencies, the tenant's limits and the threshold announcements. */
export function tableQuotaDeps(s: Services): TableQuotaDeps {
  const tables = tablesDeps(s);
  return lazily<TableQuotaDeps>({
    databases: () => tables.databases,
    clusters: () => tables.clusters,
    moduleEnabled: () => tables.moduleEnabled,
    control: () => s.control,
    settings: () => s.settings,
    events: () => s.events,
  });
}
