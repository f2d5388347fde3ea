import type * as z from 'zod';
import { createCountedTable, type createTableSchema, type TablesDeps } from '#shared/data/tables';
import { announceThresholds, type QuotaActor, type ThresholdDeps } from '#shared/tenancy/quota-thresholds';
import { type QuotaDeps, tenantLimits } from '#shared/tenancy/quotas';

export type TableQuotaDeps = TablesDeps & QuotaDeps & ThresholdDeps;

/**
 * Creates a table within the tenant's `tablesPerDatabase` limit, read from the control database
 * at this moment (a plan change applies at once), counted in the database itself (see
 * `createCountedTable`), and announces the thresholds the new table crossed.
 */
export async function createTableWithinQuota(
  deps: TableQuotaDeps,
  tenantId: string,
  databaseId: string,
  spec: z.output<typeof createTableSchema>,
  actor: QuotaActor,
) {
  const { plan, limits } = await tenantLimits(deps, tenantId);
  const limit = limits.tablesPerDatabase;
  const { table, tables } = await createCountedTable(deps, tenantId, databaseId, spec, limit);
  if (tables !== null) {
    await announceThresholds(
      deps,
      { tenantId, plan, quota: 'tablesPerDatabase', limit, used: tables },
      actor,
    );
  }
  return table;
}
