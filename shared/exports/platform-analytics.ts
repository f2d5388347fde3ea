import type { TenantBreakdown, TenantCensus } from '#shared/control/tenant-census';
import { mapBounded } from '#shared/core/bounded-concurrency';
import { toCsv } from '#shared/exports/csv';
import { addMonths } from '#shared/exports/months';
import type { ExportLine } from '#shared/ports/export-archive';
import type { TenantMonth } from '#shared/records/analytics-store';
import { percentile } from '#shared/records/latency-histogram';
import type { AnalyticsRecords } from '#shared/records/stores';

/** How many tenants each top list names. */
export const TOP_TENANTS = 10;

export interface Ranked {
  readonly tenantId: string;
  readonly value: number;
}

export interface AnalyticsMonth {
  readonly month: string;
  readonly tenants: TenantBreakdown;
  /** `snapshot`: as the month's close counted them; `live`: the control database now (docs/analytics.md). */
  readonly tenantsSource: 'snapshot' | 'live';
  readonly created: number;
  readonly offboarded: number;
  readonly activeUsers: number;
  readonly apiCalls: number;
  readonly requests: number;
  readonly errors: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP95Ms: number | null;
  readonly top: {
    readonly apiCalls: Ranked[];
    readonly storageBytes: Ranked[];
    readonly errorRate: Ranked[];
  };
}

export interface AnalyticsReport {
  readonly from: string;
  readonly to: string;
  readonly months: AnalyticsMonth[];
}

export interface AnalyticsDependencies {
  readonly analytics: Pick<AnalyticsRecords, 'month' | 'activeUsers'>;
  readonly census: Pick<TenantCensus, 'ofRange'>;
}

/** Every month from `from` to `to`, inclusive, oldest first. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let month = from; month <= to; month = addMonths(month, 1)) out.push(month);
  return out;
}

const errorRate = (tenant: TenantMonth) =>
  tenant.requests === 0 ? 0 : Math.round((tenant.errors / tenant.requests) * 10_000) / 10_000;

/** The `TOP_TENANTS` tenants of highest positive `value`, ties by tenant id. */
export function topTenants(
  tenants: readonly TenantMonth[],
  value: (tenant: TenantMonth) => number,
): Ranked[] {
  return tenants
    .map((tenant) => ({ tenantId: tenant.tenantId, value: value(tenant) }))
    .filter((ranked) => ranked.value > 0)
    .sort((a, b) => b.value - a.value || a.tenantId.localeCompare(b.tenantId))
    .slice(0, TOP_TENANTS);
}

/**
 * The fleet's analytics per month, from the rollups only: a month is one Query of its partition
 * (a small item per tenant, the fleet's, the close's snapshot) and one COUNT of its active users;
 * the tenants come from one grouped control-database census for the whole range.
 */
export async function platformAnalytics(
  deps: AnalyticsDependencies,
  from: string,
  to: string,
): Promise<AnalyticsReport> {
  const months = monthsBetween(from, to);
  const [census, rollups] = await Promise.all([
    deps.census.ofRange(from, to),
    mapBounded(months, 4, async (month) => {
      const [partition, activeUsers] = await Promise.all([
        deps.analytics.month(month),
        deps.analytics.activeUsers(month),
      ]);
      return { partition, activeUsers };
    }),
  ]);
  return {
    from,
    to,
    months: months.map((month, index): AnalyticsMonth => {
      const { partition, activeUsers } = rollups[index] as (typeof rollups)[number];
      const { tenants, fleet, snapshot } = partition;
      return {
        month,
        tenants: snapshot
          ? { byStatus: snapshot.byStatus, byPlan: snapshot.byPlan, byIsolation: snapshot.byIsolation }
          : census.breakdownAtEndOf(month),
        tenantsSource: snapshot ? 'snapshot' : 'live',
        created: census.created.get(month) ?? 0,
        offboarded: census.offboarded.get(month) ?? 0,
        activeUsers,
        apiCalls: tenants.reduce((sum, tenant) => sum + tenant.apiCalls, 0),
        requests: fleet.requests,
        errors: fleet.errors,
        latencyP50Ms: percentile(fleet.buckets, 50),
        latencyP95Ms: percentile(fleet.buckets, 95),
        top: {
          apiCalls: topTenants(tenants, (tenant) => tenant.apiCalls),
          storageBytes: topTenants(tenants, (tenant) => tenant.storageBytes),
          errorRate: topTenants(tenants, errorRate),
        },
      };
    }),
  };
}

export const ANALYTICS_CSV_HEADER = ['month', 'measure', 'tenant_id', 'value'] as const;

/**
 * One line per month and measure: `tenants.by_status.<status>` (and by_plan, by_isolation),
 * `created`, `offboarded`, `active_users`, `api_calls`, `requests`, `errors`, `latency_p50_ms`,
 * `latency_p95_ms` (empty without requests), and `top.<list>.<rank>` with the tenant's id.
 */
export function analyticsToCsv(report: AnalyticsReport): string {
  const rows: (string | number | null)[][] = [];
  for (const month of report.months) {
    const line = (measure: string, value: number | null, tenantId: string | null = null) => {
      rows.push([month.month, measure, tenantId, value]);
    };
    for (const [group, counts] of [
      ['by_status', month.tenants.byStatus],
      ['by_plan', month.tenants.byPlan],
      ['by_isolation', month.tenants.byIsolation],
    ] as const) {
      for (const key of Object.keys(counts).sort()) line(`tenants.${group}.${key}`, counts[key] ?? 0);
    }
    line('created', month.created);
    line('offboarded', month.offboarded);
    line('active_users', month.activeUsers);
    line('api_calls', month.apiCalls);
    line('requests', month.requests);
    line('errors', month.errors);
    line('latency_p50_ms', month.latencyP50Ms);
    line('latency_p95_ms', month.latencyP95Ms);
    for (const [list, ranked] of [
      ['api_calls', month.top.apiCalls],
      ['storage_bytes', month.top.storageBytes],
      ['error_rate', month.top.errorRate],
    ] as const) {
      for (const [rank, entry] of ranked.entries())
        line(`top.${list}.${rank + 1}`, entry.value, entry.tenantId);
    }
  }
  return toCsv(ANALYTICS_CSV_HEADER, rows);
}

/**
 * The month close's part (docs/analytics.md): each tenant's api_calls and storage peak of the
 * month set from the reconciled daily rollups (the export's lines: the backstop for the window
 * the records writer leaves), then the tenants' snapshot by status, plan and isolation.
 */
export async function closeAnalyticsMonth(
  deps: {
    readonly analytics: Pick<AnalyticsRecords, 'putSnapshot' | 'setTenantUsage'>;
    readonly census: Pick<TenantCensus, 'ofRange'>;
  },
  month: string,
  lines: readonly ExportLine[],
  now: Date,
): Promise<void> {
  const usage = new Map<string, { apiCalls: number; storageBytes: number }>();
  for (const line of lines) {
    if (line.month !== month) continue;
    const tenant = usage.get(line.tenantId) ?? { apiCalls: 0, storageBytes: 0 };
    if (line.resourceType === 'api_calls') tenant.apiCalls = line.quantity;
    else if (line.resourceType === 'storage_bytes') tenant.storageBytes = line.quantity;
    else continue;
    usage.set(line.tenantId, tenant);
  }
  await mapBounded([...usage], 16, ([tenantId, values]) =>
    deps.analytics.setTenantUsage(month, tenantId, values),
  );
  const census = await deps.census.ofRange(month, month);
  await deps.analytics.putSnapshot(month, census.breakdownAtEndOf(month), now.toISOString());
}
