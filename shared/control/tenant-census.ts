import type { SqlRunner } from '#shared/ports/sql';

/** Tenants counted by status, plan and isolation (the shape of AnalyticsStore's snapshot). */
export interface TenantBreakdown {
  readonly byStatus: Record<string, number>;
  readonly byPlan: Record<string, number>;
  readonly byIsolation: Record<string, number>;
}

/** Per month (`YYYY-MM`) of a range: tenants created, tenants offboarded, and the breakdown now. */
export interface TenantCensusOfRange {
  /** For each month, the tenants created before its end, counted by their status, plan and isolation now. */
  readonly breakdownAtEndOf: (month: string) => TenantBreakdown;
  readonly created: ReadonlyMap<string, number>;
  readonly offboarded: ReadonlyMap<string, number>;
}

const bump = (counts: Record<string, number>, key: string, by: number) => {
  counts[key] = (counts[key] ?? 0) + by;
};

/**
 * The fleet's tenants from the control database, grouped in SQL (a handful of rows whatever the
 * number of tenants): the created month, status, plan and isolation of every tenant; the months
 * in which tenants were offboarded (status `deleted`, dated by its last update, the offboarding's).
 */
export class TenantCensus {
  constructor(private readonly sql: SqlRunner) {}

  /** The census for months `from`..`to` (inclusive). */
  async ofRange(from: string, to: string): Promise<TenantCensusOfRange> {
    const [groups, offboardedRows] = await Promise.all([
      this.sql.query<{ month: string; status: string; plan: string; isolation: string; n: number }>(
        `select to_char(created_at at time zone 'UTC', 'YYYY-MM') as month, status, plan, isolation,
                count(*)::int as n
           from tenants
          group by 1, 2, 3, 4`,
      ),
      this.sql.query<{ month: string; n: number }>(
        `select to_char(updated_at at time zone 'UTC', 'YYYY-MM') as month, count(*)::int as n
           from tenants
          where status = 'deleted'
            and updated_at >= (:from || '-01 00:00:00+00')::timestamptz
            and updated_at < (:to || '-01 00:00:00+00')::timestamptz + interval '1 month'
          group by 1`,
        { from, to },
      ),
    ]);
    const created = new Map<string, number>();
    for (const row of groups) created.set(row.month, (created.get(row.month) ?? 0) + Number(row.n));
    return {
      breakdownAtEndOf: (month) => {
        const breakdown: TenantBreakdown = { byStatus: {}, byPlan: {}, byIsolation: {} };
        for (const row of groups) {
          if (row.month > month) continue;
          bump(breakdown.byStatus, row.status, Number(row.n));
          bump(breakdown.byPlan, row.plan, Number(row.n));
          bump(breakdown.byIsolation, row.isolation, Number(row.n));
        }
        return breakdown;
      },
      created,
      offboarded: new Map(offboardedRows.map((row) => [row.month, Number(row.n)])),
    };
  }
}
