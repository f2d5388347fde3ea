import type { SubtreeMember } from '#shared/control/tenant-paths';
import { mapBounded } from '#shared/core/bounded-concurrency';
import type { UsageRecords } from '#shared/records/stores';
import type { DailyRollup } from '#shared/records/usage-store';
import { combine } from '#shared/records/usage-totals';

/** One line of `GET …/usage`: a day's or a month's quantity of one resource type. */
export interface UsagePeriod {
  readonly period: string;
  readonly resourceType: string;
  readonly quantity: number;
  readonly unit: string;
}

export interface UsageRange {
  readonly from: string;
  readonly to: string;
  readonly granularity: 'day' | 'month';
  readonly resourceType?: string | undefined;
}

/**
 * How many tenants' rollups `include=descendants` reads at once. The rollups are one partition per
 * tenant (`ROLLUP#<tenant>`) and a DynamoDB Query reads a single partition key value
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.KeyConditionExpressions.html),
 * so a subtree costs one Query per tenant; this bounds how many are in flight.
 */
export const SUBTREE_QUERY_CONCURRENCY = 8;

const sorted = (periods: Iterable<UsagePeriod>) =>
  [...periods].sort(
    (a, b) => a.period.localeCompare(b.period) || a.resourceType.localeCompare(b.resourceType),
  );

/** One tenant's rollups per period and resource type: counters summed, gauges at their peak. */
export function usagePeriods(rollups: readonly DailyRollup[], granularity: 'day' | 'month'): UsagePeriod[] {
  const periods = new Map<string, UsagePeriod>();
  for (const rollup of rollups) {
    const period = granularity === 'month' ? rollup.day.slice(0, 7) : rollup.day;
    const key = `${period}|${rollup.resourceType}`;
    const current = periods.get(key);
    periods.set(key, {
      period,
      resourceType: rollup.resourceType,
      quantity: combine(current?.quantity, rollup.quantity, rollup.kind),
      unit: rollup.unit,
    });
  }
  return sorted(periods.values());
}

/**
 * Several tenants' periods added up. Always a sum, gauges too: an organisation holds the storage
 * of all its tenants, so its month is the sum of each tenant's peak (not the peak of the daily
 * sums), which keeps the roll-up equal to the sum of the tenants' own answers.
 */
export function sumPeriods(perTenant: readonly (readonly UsagePeriod[])[]): UsagePeriod[] {
  const totals = new Map<string, UsagePeriod>();
  for (const line of perTenant.flat()) {
    const key = `${line.period}|${line.resourceType}`;
    const current = totals.get(key);
    totals.set(key, { ...line, quantity: (current?.quantity ?? 0) + line.quantity });
  }
  return sorted(totals.values());
}

/**
 * The tenants a roll-up names: the tenant asked for first, then its descendants by depth and id
 * (offboarded ones included: their past usage is still the organisation's).
 */
export function rollupTenants(tenantId: string, subtree: readonly SubtreeMember[]): string[] {
  const descendants = subtree
    .filter((member) => member.id !== tenantId)
    .sort((a, b) => a.depth - b.depth || a.id.localeCompare(b.id));
  return [tenantId, ...descendants.map((member) => member.id)];
}

/** The usage of several tenants summed per period and resource type, read `SUBTREE_QUERY_CONCURRENCY` at a time. */
export async function usageOfTenants(
  usage: Pick<UsageRecords, 'dailyRollups'>,
  tenantIds: readonly string[],
  range: UsageRange,
): Promise<UsagePeriod[]> {
  const perTenant = await mapBounded(tenantIds, SUBTREE_QUERY_CONCURRENCY, async (tenantId) =>
    usagePeriods(
      await usage.dailyRollups(tenantId, range.from, range.to, range.resourceType),
      range.granularity,
    ),
  );
  return sumPeriods(perTenant);
}
