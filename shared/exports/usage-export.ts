import { pathIds } from '#shared/control/tenant-paths';
import type { TenantRepository } from '#shared/control/tenant-repository';
import { mapBounded } from '#shared/core/bounded-concurrency';
import { Conflict, NotFound } from '#shared/errors';
import { linesToCsv } from '#shared/exports/export-lines';
import { addMonths, currentMonth, daysOf } from '#shared/exports/months';
import type { ArchivedExport, ExportArchive, ExportLine } from '#shared/ports/export-archive';
import type { UsageRecords } from '#shared/records/stores';
import { combine } from '#shared/records/usage-totals';

/** A tenant as its export lines name it, with its plan and place in its hierarchy now. */
export interface ExportTenant {
  readonly id: string;
  readonly name: string;
  /** @default '' - a caller that does not know it (the benchmark hook) */
  readonly plan?: string;
  /** @default null - a root (or a caller that does not know it) */
  readonly parentId?: string | null;
  /** The ids from the root down to the tenant, `/`-joined. @default the tenant's own id (a root) */
  readonly path?: string;
}

/** The hierarchy columns of a tenant's lines: its parent, and the first id of its path. */
export const hierarchyOf = (tenant: ExportTenant): Pick<ExportLine, 'parentId' | 'rootId'> => ({
  parentId: tenant.parentId ?? null,
  rootId: tenant.path ? (pathIds(tenant.path)[0] ?? tenant.id) : tenant.id,
});

const exportTenant = (tenant: {
  id: string;
  name: string;
  plan: string;
  parentId: string | null;
  path: string;
}): ExportTenant => ({
  id: tenant.id,
  name: tenant.name,
  plan: tenant.plan,
  parentId: tenant.parentId,
  path: tenant.path,
});

/**
 * Tenants as the export needs them: every tenant that ever existed, deleted ones included. Each
 * comes with its parent and path (the control database's `tenants` rows), so the hierarchy of
 * every tenant of the month is read with the tenants themselves, not by a query per tenant.
 */
export interface TenantCatalog {
  all(): Promise<ExportTenant[]>;
  get(tenantId: string): Promise<ExportTenant | null>;
}

export function tenantCatalog(tenants: TenantRepository): TenantCatalog {
  return {
    all: async () => {
      const out: ExportTenant[] = [];
      let cursor: string | undefined;
      do {
        const page = await tenants.list(100, cursor);
        out.push(...page.items.map(exportTenant));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out;
    },
    get: async (tenantId) => {
      const tenant = await tenants.get(tenantId);
      return tenant ? exportTenant(tenant) : null;
    },
  };
}

export interface ExportDependencies {
  readonly usage: UsageRecords;
  readonly tenants: TenantCatalog;
  readonly archive: ExportArchive;
  /**
   * Run by a close with the month's lines (from the reconciled rollups) before the archive is
   * written, so that a failure leaves the month open and the next run repeats it: the fleet
   * analytics' snapshot and backstop (docs/analytics.md). @default - nothing
   */
  readonly onClose?: (month: string, lines: readonly ExportLine[], now: Date) => Promise<void>;
}

/** How many earlier closed months a close looks at for late events. */
export const ADJUSTMENT_WINDOW_MONTHS = 12;
/** Tenants read at once: the rollups are one DynamoDB partition, so one Query, per tenant. */
const CONCURRENCY = 8;
const inBatches = <T, R>(items: readonly T[], work: (item: T) => Promise<R>) =>
  mapBounded(items, CONCURRENCY, work);

const byLine = (a: ExportLine, b: ExportLine) =>
  a.month.localeCompare(b.month) * -1 ||
  a.tenantId.localeCompare(b.tenantId) ||
  a.resourceType.localeCompare(b.resourceType);

/** Totals of a tenant per month (`YYYY-MM`) and resource type, from its daily rollups. */
async function monthlyTotals(
  usage: UsageRecords,
  tenantId: string,
  fromMonth: string,
  toMonth: string,
): Promise<Map<string, { quantity: number; unit: string }>> {
  const rollups = await usage.dailyRollups(tenantId, `${fromMonth}-01`, `${toMonth}-31`);
  const totals = new Map<string, { quantity: number; unit: string }>();
  for (const rollup of rollups) {
    const key = `${rollup.day.slice(0, 7)}|${rollup.resourceType}`;
    const current = totals.get(key);
    totals.set(key, {
      quantity: combine(current?.quantity, rollup.quantity, rollup.kind),
      unit: rollup.unit,
    });
  }
  return totals;
}

/** The month's lines computed now from the rollups (an open month, or a preview). */
export async function computeMonth(
  usage: UsageRecords,
  month: string,
  tenants: readonly ExportTenant[],
): Promise<ExportLine[]> {
  const perTenant = await inBatches(tenants, async (tenant) => {
    const totals = await monthlyTotals(usage, tenant.id, month, month);
    return [...totals].map(([key, total]) => ({
      tenantId: tenant.id,
      tenantName: tenant.name,
      month,
      resourceType: key.split('|')[1] as string,
      quantity: total.quantity,
      unit: total.unit,
      plan: tenant.plan ?? '',
      ...hierarchyOf(tenant),
    }));
  });
  return perTenant
    .flat()
    .filter((line) => line.quantity !== 0)
    .sort(byLine);
}

/** Whose subtree a line counts in: its root, or (a file archived before hierarchies) its own tenant. */
const rootOf = (line: Pick<ExportLine, 'tenantId' | 'rootId'>) => line.rootId ?? line.tenantId;

/**
 * Lines rolled up to their roots: one line per root tenant, month and resource type whose
 * quantity is the sum of the subtree's lines (gauges too: an organisation holds the storage of all
 * its tenants). The month stays in the key, so an adjustment line for an earlier month rolls up
 * into an adjustment of the root for that month. The root is named as its own line names it (its
 * name and plan in this file), else as the catalog does now (a root without usage of its own).
 */
export async function rollUpToRoots(
  lines: readonly ExportLine[],
  tenants: TenantCatalog,
): Promise<ExportLine[]> {
  const roots = new Map<string, Pick<ExportLine, 'tenantName' | 'plan'>>();
  for (const line of lines) {
    if (line.tenantId === rootOf(line)) roots.set(line.tenantId, line);
  }
  const unnamed = new Set(lines.map(rootOf).filter((id) => !roots.has(id)));
  // One lookup for one root; for more, the tenants' one paged listing rather than a query each.
  const found =
    unnamed.size === 0
      ? []
      : unnamed.size === 1
        ? [await tenants.get([...unnamed][0] as string)]
        : await tenants.all();
  for (const root of found) {
    if (root && unnamed.has(root.id)) roots.set(root.id, { tenantName: root.name, plan: root.plan ?? '' });
  }
  const totals = new Map<string, ExportLine>();
  for (const line of lines) {
    const rootId = rootOf(line);
    const key = `${rootId}|${line.month}|${line.resourceType}`;
    const current = totals.get(key);
    const root = roots.get(rootId);
    totals.set(key, {
      tenantId: rootId,
      tenantName: root?.tenantName ?? '',
      month: line.month,
      resourceType: line.resourceType,
      quantity: (current?.quantity ?? 0) + line.quantity,
      unit: line.unit,
      plan: root?.plan ?? '',
      parentId: null,
      rootId,
    });
  }
  return [...totals.values()].sort(byLine);
}

export interface MonthExportQuery {
  readonly month: string;
  readonly tenantId?: string | undefined;
  readonly rollup: 'tenant' | 'root';
}

/**
 * What `GET /usage/exports` answers: a closed month's archived lines, an open month's computed now;
 * `tenantId` keeps one tenant's lines (with `rollup=root`, the lines of the subtree whose root it
 * is); `rollup=root` sums them per root. 404 for a tenant that never existed.
 */
export async function monthExport(
  deps: ExportDependencies,
  query: MonthExportQuery,
): Promise<{ status: 'open' | 'closed'; lines: readonly ExportLine[] }> {
  const archived = await deps.archive.get(query.month);
  const tenant = query.tenantId ? await deps.tenants.get(query.tenantId) : null;
  if (query.tenantId && !tenant) throw new NotFound('Tenant not found');
  const keep = (line: Pick<ExportLine, 'tenantId' | 'rootId'>) =>
    !tenant || (query.rollup === 'root' ? rootOf(line) === tenant.id : line.tenantId === tenant.id);
  let lines: readonly ExportLine[];
  if (archived) lines = archived.lines.filter(keep);
  else {
    const tenants =
      tenant && query.rollup === 'tenant'
        ? [tenant]
        : (await deps.tenants.all()).filter((candidate) =>
            keep({ tenantId: candidate.id, rootId: hierarchyOf(candidate).rootId }),
          );
    lines = await computeMonth(deps.usage, query.month, tenants);
  }
  if (query.rollup === 'root') lines = await rollUpToRoots(lines, deps.tenants);
  return { status: archived ? 'closed' : 'open', lines };
}

export interface CloseResult {
  readonly month: string;
  /** False when the month was already closed: its archived export is returned unchanged. */
  readonly created: boolean;
  readonly export: ArchivedExport;
  /** Days whose rollups reconciliation corrected (normally none). */
  readonly corrected: readonly string[];
}

/** A domain 409: the on-demand close answers it as is; the scheduled close never asks for one. */
export class MonthNotFinished extends Conflict {
  constructor(month: string) {
    super(`Month ${month} has not ended yet (UTC)`, { month });
  }
}

/** What the close answers: the same for the run that wrote the archive and for every later one. */
export const closeSummary = (result: CloseResult) => ({
  month: result.month,
  status: 'closed' as const,
  closedAt: result.export.closedAt,
  lines: result.export.lines.length,
  bytes: Buffer.byteLength(result.export.csv, 'utf8'),
});

/**
 * Closes a finished month: reconciles its daily rollups with the raw records, writes the export
 * (the month's lines, then adjustment lines for earlier closed months whose totals changed since
 * they were billed) and archives it. A closed month is immutable: a second run returns the archive.
 *
 * Adjustments: for each closed month X in the window, billed(X) is the sum of X's lines over every
 * archived export; now(X) is X's total from the rollups. A difference becomes a line with
 * `month = X` and `quantity = now(X) − billed(X)` in this month's file.
 */
export async function closeMonth(
  deps: ExportDependencies,
  month: string,
  options: { now?: Date; reconcile?: boolean } = {},
): Promise<CloseResult> {
  const now = options.now ?? new Date();
  if (month >= currentMonth(now)) throw new MonthNotFinished(month);
  const existing = await deps.archive.get(month);
  if (existing) return { month, created: false, export: existing, corrected: [] };

  const tenants = await deps.tenants.all();
  const corrected: string[] = [];
  if (options.reconcile ?? true) {
    const days = daysOf(month);
    await inBatches(tenants, async (tenant) => {
      for (const day of days) {
        const types = await deps.usage.reconcileDay(tenant.id, day);
        corrected.push(...types.map((type) => `${tenant.id} ${day} ${type}`));
      }
    });
  }

  const earliest = addMonths(month, -ADJUSTMENT_WINDOW_MONTHS);
  const closedBefore = (await deps.archive.list()).filter(
    (entry) => entry.month >= earliest && entry.month < month,
  );
  const billed = new Map<string, number>();
  for (const entry of closedBefore) {
    const archived = await deps.archive.get(entry.month);
    for (const line of archived?.lines ?? []) {
      const key = `${line.tenantId}|${line.month}|${line.resourceType}`;
      // Adjustment lines of a gauge carry the change of its peak, so sums hold for both kinds.
      billed.set(key, (billed.get(key) ?? 0) + line.quantity);
    }
  }
  const closedMonths = new Set(closedBefore.map((entry) => entry.month));

  const lines: ExportLine[] = [];
  await inBatches(tenants, async (tenant) => {
    const totals = await monthlyTotals(deps.usage, tenant.id, earliest, month);
    for (const [key, total] of totals) {
      const [totalMonth, resourceType] = key.split('|') as [string, string];
      const line = {
        tenantId: tenant.id,
        tenantName: tenant.name,
        resourceType,
        unit: total.unit,
        plan: tenant.plan ?? '',
        ...hierarchyOf(tenant),
      };
      if (totalMonth === month) {
        if (total.quantity !== 0) lines.push({ ...line, month, quantity: total.quantity });
      } else if (closedMonths.has(totalMonth)) {
        const difference = total.quantity - (billed.get(`${tenant.id}|${totalMonth}|${resourceType}`) ?? 0);
        if (difference !== 0) lines.push({ ...line, month: totalMonth, quantity: difference });
      }
    }
  });
  lines.sort(byLine);
  await deps.onClose?.(month, lines, now);
  const archived: ArchivedExport = { month, csv: linesToCsv(lines), lines, closedAt: now.toISOString() };
  const created = await deps.archive.put(archived);
  // Lost a race with another run: the other run's archive is the month's export.
  const stored = created ? archived : ((await deps.archive.get(month)) ?? archived);
  return { month, created, export: stored, corrected };
}

/**
 * Benchmark hook: times the export of one tenant's month from the rollups, the way the export
 * route and the month close read it (never the raw records).
 */
export async function timeTenantMonthExport(
  usage: UsageRecords,
  tenant: ExportTenant,
  month: string,
): Promise<{ ms: number; lines: ExportLine[]; csv: string }> {
  const started = performance.now();
  const lines = await computeMonth(usage, month, [tenant]);
  const csv = linesToCsv(lines);
  return { ms: performance.now() - started, lines, csv };
}
