import { httpHandler } from '#shared/http/handler';
import { combine } from '#shared/records/usage-totals';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.getUsage, async ({ params, query }, services) => {
  const { from, to } = query;
  const rollups = await services.records.usage.dailyRollups(params.tenantId, from, to, query.resourceType);
  const periods = new Map<string, { period: string; resourceType: string; quantity: number; unit: string }>();
  for (const rollup of rollups) {
    const period = query.granularity === 'month' ? rollup.day.slice(0, 7) : rollup.day;
    const key = `${period}|${rollup.resourceType}`;
    const current = periods.get(key);
    periods.set(key, {
      period,
      resourceType: rollup.resourceType,
      quantity: combine(current?.quantity, rollup.quantity, rollup.kind),
      unit: rollup.unit,
    });
  }
  const items = [...periods.values()].sort(
    (a, b) => a.period.localeCompare(b.period) || a.resourceType.localeCompare(b.resourceType),
  );
  return {
    status: 200,
    body: { tenantId: params.tenantId, granularity: query.granularity, from, to, items },
  };
});
