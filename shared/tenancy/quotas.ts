import type { TenantDatabaseRecord } from '#shared/control/database-registry';
import {
  COUNTED_LIMITS,
  type CountedLimit,
  DEFAULT_PLAN_SETTINGS,
  effectiveLimits,
  type LimitOverrides,
  type Limits,
  type PlanSettings,
} from '#shared/domain/plans';
import { NotFound, QuotaExceeded } from '#shared/errors';
import type { SqlRunner } from '#shared/ports/sql';

/**
 * Counted quotas (issue 15): the resources a tenant creates one at a time, counted in the control
 * database and checked in the same transaction as the insert, behind a lock on the tenant's row,
 * so two creations at `limit - 1` cannot both pass. Tables are counted in their own database
 * (shared/data/tables.ts, an advisory lock there).
 */
export type ControlCountedQuota = 'databases' | 'members' | 'customRoles';
export type CountedQuota = ControlCountedQuota | 'tablesPerDatabase';

/**
 * What each quota counts. Databases: those the tenant has or is getting (provisioning, restoring, active); one
 * being dropped or whose provisioning failed (and was compensated) holds no slot. Members: the
 * memberships and the pending invitations that can still be accepted (an expired one is refreshed
 * by inviting again, which counts it again). Custom roles: all of them.
 */
const USED: Readonly<Record<ControlCountedQuota, string>> = {
  databases: `(select count(*) from tenant_databases
                where tenant_id = :tenantId and status in ('provisioning', 'restoring', 'active'))`,
  members: `((select count(*) from memberships where tenant_id = :tenantId)
           + (select count(*) from invitations
               where tenant_id = :tenantId and status = 'pending' and expires_at > now()))`,
  customRoles: '(select count(*) from custom_roles where tenant_id = :tenantId)',
};

export interface PlanDeps {
  /** The deployment's plans (`TENANT_PLANS`). */
  readonly settings: { readonly plans?: PlanSettings };
}

export interface QuotaDeps extends PlanDeps {
  readonly control: SqlRunner;
}

export const plansOf = (deps: PlanDeps): PlanSettings => deps.settings.plans ?? DEFAULT_PLAN_SETTINGS;

/** A tenant's plan and effective limits, as its row says now. */
export interface TenantLimits {
  readonly plan: string;
  readonly limits: Limits;
}

interface PlanRow {
  readonly plan: string;
  readonly planOverrides: LimitOverrides;
}

async function planRow(sql: SqlRunner, tenantId: string, lock: boolean): Promise<PlanRow> {
  // `for no key update`: creations of one tenant queue behind each other; inserts that only
  // reference the tenant (their foreign keys take `for key share`) do not wait for it.
  const [row] = await sql.query<PlanRow & Record<string, unknown>>(
    `select plan, plan_overrides as "planOverrides" from tenants
      where id = :tenantId and status <> 'deleted' ${lock ? 'for no key update' : ''}`,
    { tenantId },
  );
  if (!row) throw new NotFound('Tenant not found');
  return row;
}

/** The tenant's limits read from the control database (not a membership answer up to 30 s old). */
export async function tenantLimits(deps: QuotaDeps, tenantId: string): Promise<TenantLimits> {
  const row = await planRow(deps.control, tenantId, false);
  return { plan: row.plan, limits: effectiveLimits(plansOf(deps), row.plan, row.planOverrides) };
}

/** One creation's use of a quota once it is made: the input of the threshold check. */
export interface QuotaUse {
  readonly tenantId: string;
  readonly plan: string;
  /** A counted resource, or `storageBytes` as the storage snapshot measures it. */
  readonly quota: CountedQuota | 'storageBytes';
  readonly limit: number;
  /** How many the tenant has with this one (for storage: the bytes measured). */
  readonly used: number;
}

export interface CountedCreation<T> {
  readonly result: T;
  /** Null when the creation added nothing to the count (a refreshed invitation). */
  readonly use: QuotaUse | null;
}

/** Refuses one more when `used` already fills `limit` (a lowered limit may be below it). */
export function assertRoomForOne(quota: CountedQuota, limit: number, used: number): void {
  if (used + 1 > limit) throw new QuotaExceeded(quota, limit, used);
}

/** How many of `quota` the tenant has now (no lock: for answers and early refusals). */
export async function usedOf(sql: SqlRunner, tenantId: string, quota: ControlCountedQuota): Promise<number> {
  const [row] = await sql.query<{ used: number }>(`select ${USED[quota]}::int as used`, { tenantId });
  return row?.used ?? 0;
}

/**
 * Creates one more of a counted resource within the tenant's limit: the tenant's row locked, its
 * limits read from it, the resource counted and `create` run, all in one transaction. Over the
 * limit it throws `QuotaExceeded` before `create` runs, and nothing is written. `adds` says
 * whether this creation adds to the count (refreshing a pending invitation does not).
 */
export async function createWithinQuota<T>(
  deps: QuotaDeps,
  tenantId: string,
  quota: ControlCountedQuota,
  create: (tx: SqlRunner) => Promise<T>,
  adds: (tx: SqlRunner) => Promise<boolean> = async () => true,
): Promise<CountedCreation<T>> {
  return deps.control.transaction(async (tx) => {
    const row = await planRow(tx, tenantId, true);
    const limit = effectiveLimits(plansOf(deps), row.plan, row.planOverrides)[quota];
    const counts = await adds(tx);
    const used = await usedOf(tx, tenantId, quota);
    if (counts) assertRoomForOne(quota, limit, used);
    const result = await create(tx);
    return { result, use: counts ? { tenantId, plan: row.plan, quota, limit, used: used + 1 } : null };
  });
}

/** Usage of every counted limit (`GET …/quotas`); rate limits have none. */
export type QuotaUsage = Readonly<Record<CountedLimit, number>>;

export interface QuotasView {
  readonly plan: string;
  readonly limits: Limits;
  readonly usage: QuotaUsage;
}

/** What the quota answer reads besides the control database. */
export interface QuotaReadDeps extends QuotaDeps {
  readonly databases: { ofTenant(tenantId: string): Promise<TenantDatabaseRecord[]> };
  /** How many tables one of the tenant's active databases has (its own catalog, as the tenant). */
  readonly tablesIn: (tenantId: string, databaseId: string) => Promise<number>;
  /** The tenant's metered usage: this month's API calls and the latest storage snapshot. */
  readonly meteredUsage: (tenantId: string, now: Date) => Promise<{ apiCalls: number; storageBytes: number }>;
}

/** The tenant's plan, effective limits and current usage of each counted limit. */
export async function quotasOf(deps: QuotaReadDeps, tenantId: string, now = new Date()): Promise<QuotasView> {
  const row = await planRow(deps.control, tenantId, false);
  const [counts] = await deps.control.query<Record<ControlCountedQuota, number>>(
    `select ${USED.databases}::int as databases, ${USED.members}::int as members,
            ${USED.customRoles}::int as "customRoles"`,
    { tenantId },
  );
  const active = (await deps.databases.ofTenant(tenantId)).filter((db) => db.status === 'active');
  const [tables, metered] = await Promise.all([
    Promise.all(active.map((db) => deps.tablesIn(tenantId, db.id))),
    deps.meteredUsage(tenantId, now),
  ]);
  const usage: Record<CountedLimit, number> = {
    apiCallsPerMonth: metered.apiCalls,
    databases: counts?.databases ?? 0,
    tablesPerDatabase: Math.max(0, ...tables),
    members: counts?.members ?? 0,
    customRoles: counts?.customRoles ?? 0,
    storageBytes: metered.storageBytes,
  };
  return {
    plan: row.plan,
    limits: effectiveLimits(plansOf(deps), row.plan, row.planOverrides),
    usage: Object.fromEntries(COUNTED_LIMITS.map((name) => [name, usage[name]])) as QuotaUsage,
  };
}

/** The usage store's daily rollups, as the quota answer reads them. */
export interface RollupReader {
  dailyRollups(
    tenantId: string,
    fromDay: string,
    toDay: string,
  ): Promise<readonly { day: string; resourceType: string; quantity: number }[]>;
}

/** How far back the latest storage snapshot is looked for: the snapshot runs daily. */
export const STORAGE_LOOKBACK_DAYS = 31;

/**
 * Metered usage from the daily rollups, in one query: the API calls of the current UTC month
 * (`api_calls`, a counter) and the storage of the latest day a snapshot measured (`storage_bytes`,
 * a gauge: a day's value is its highest snapshot).
 */
export function meteredUsageFrom(usage: RollupReader) {
  return async (tenantId: string, now: Date) => {
    const today = now.toISOString().slice(0, 10);
    const month = today.slice(0, 7);
    const lookback = new Date(now.getTime() - STORAGE_LOOKBACK_DAYS * 86_400_000).toISOString().slice(0, 10);
    const from = lookback < `${month}-01` ? lookback : `${month}-01`;
    const rollups = await usage.dailyRollups(tenantId, from, today);
    let apiCalls = 0;
    let storage: { day: string; quantity: number } | null = null;
    for (const rollup of rollups) {
      if (rollup.resourceType === 'api_calls' && rollup.day.startsWith(month)) apiCalls += rollup.quantity;
      if (rollup.resourceType === 'storage_bytes' && (!storage || rollup.day > storage.day)) storage = rollup;
    }
    return { apiCalls, storageBytes: storage?.quantity ?? 0 };
  };
}
