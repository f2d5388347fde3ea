import { hierarchyOf } from '#shared/composition/hierarchy-deps';
import { httpHandler } from '#shared/http/handler';
import { rollupTenants, usageOfTenants, usagePeriods } from '#shared/records/usage-periods';
import { recordRoutes } from '#shared/routes/record-routes';

export const handler = httpHandler(recordRoutes.getUsage, async ({ params, query }, services) => {
  const { from, to, granularity } = query;
  const summary = { tenantId: params.tenantId, granularity, from, to };
  if (query.include !== 'descendants') {
    const rollups = await services.records.usage.dailyRollups(params.tenantId, from, to, query.resourceType);
    return { status: 200, body: { ...summary, items: usagePeriods(rollups, granularity) } };
  }
  // `usage:read` on the tenant asked for covers its whole subtree, inheritAccess:false included:
  // usage is the organisation's billing data, not the descendant's content (docs/audit-usage.md).
  const tenants = rollupTenants(params.tenantId, await hierarchyOf(services).subtree(params.tenantId));
  const items = await usageOfTenants(services.records.usage, tenants, query);
  return { status: 200, body: { ...summary, include: 'descendants' as const, tenants, items } };
});
