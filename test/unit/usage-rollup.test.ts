import { describe, expect, it } from 'vitest';
import { mapBounded } from '#shared/core/bounded-concurrency';
import {
  type ExportTenant,
  monthExport,
  rollUpToRoots,
  type TenantCatalog,
} from '#shared/exports/usage-export';
import type { ArchivedExport, ExportArchive, ExportLine } from '#shared/ports/export-archive';
import type { UsageRecords } from '#shared/records/stores';
import {
  rollupTenants,
  SUBTREE_QUERY_CONCURRENCY,
  sumPeriods,
  usageOfTenants,
  usagePeriods,
} from '#shared/records/usage-periods';
import type { DailyRollup } from '#shared/records/usage-store';

/** Tenant ids as the platform makes them: `t_` and 20 characters. */
const id = (name: string) => `t_${name.padEnd(20, 'x')}`;
const ROOT = id('root');
const CHILD_A = id('childa');
const CHILD_B = id('childb');
const GRANDCHILD = id('grandchild');
const OTHER_ROOT = id('other');

const rollup = (tenantId: string, day: string, resourceType: string, quantity: number): DailyRollup => ({
  tenantId,
  day,
  resourceType,
  quantity,
  unit: resourceType === 'storage_bytes' ? 'bytes' : 'count',
  kind: resourceType === 'storage_bytes' ? 'gauge' : 'counter',
});

/** A usage store holding `rollups`, counting the Queries in flight (one per tenant, as DynamoDB's). */
function usageStore(rollups: readonly DailyRollup[]) {
  const stats = { calls: 0, inFlight: 0, maxInFlight: 0 };
  const store: Pick<UsageRecords, 'dailyRollups'> = {
    dailyRollups: async (tenantId, from, to, resourceType) => {
      stats.calls++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      stats.inFlight--;
      return rollups.filter(
        (r) =>
          r.tenantId === tenantId &&
          r.day >= from &&
          r.day <= to &&
          (resourceType === undefined || r.resourceType === resourceType),
      );
    },
  };
  return { store, stats };
}

describe('usage roll-up of a subtree (GET …/usage?include=descendants)', () => {
  const rollups = [
    rollup(ROOT, '2021-03-01', 'api_calls', 2),
    rollup(CHILD_A, '2021-03-01', 'api_calls', 3),
    rollup(CHILD_A, '2021-03-02', 'api_calls', 5),
    rollup(CHILD_B, '2021-03-02', 'rows_written', 7),
    rollup(GRANDCHILD, '2021-03-01', 'api_calls', 11),
    // Gauges: each tenant's month is its peak; the subtree's month is the sum of those peaks.
    rollup(CHILD_A, '2021-03-01', 'storage_bytes', 100),
    rollup(CHILD_A, '2021-03-02', 'storage_bytes', 300),
    rollup(CHILD_B, '2021-03-01', 'storage_bytes', 50),
    rollup(OTHER_ROOT, '2021-03-01', 'api_calls', 1000),
  ];
  const subtree = [ROOT, CHILD_A, CHILD_B, GRANDCHILD];

  it('sums each tenant’s own answer per day and month, gauges as the sum of the tenants’ peaks', async () => {
    // Arrange
    const { store } = usageStore(rollups);
    for (const granularity of ['day', 'month'] as const) {
      const range = { from: '2021-03-01', to: '2021-03-31', granularity };
      const own = await Promise.all(
        subtree.map(async (tenantId) =>
          usagePeriods(await store.dailyRollups(tenantId, range.from, range.to), granularity),
        ),
      );
      // Act
      const summed = await usageOfTenants(store, subtree, range);
      // Assert: every period and resource type equals the sum over the tenants' own lines.
      for (const line of summed) {
        const expected = own
          .flat()
          .filter((o) => o.period === line.period && o.resourceType === line.resourceType)
          .reduce((total, o) => total + o.quantity, 0);
        expect({ ...line, granularity }).toEqual({ ...line, granularity, quantity: expected });
      }
      expect(summed).toEqual(sumPeriods(own));
    }
    const month = await usageOfTenants(store, subtree, {
      from: '2021-03-01',
      to: '2021-03-31',
      granularity: 'month',
    });
    expect(month).toEqual([
      { period: '2021-03', resourceType: 'api_calls', quantity: 2 + 3 + 5 + 11, unit: 'count' },
      { period: '2021-03', resourceType: 'rows_written', quantity: 7, unit: 'count' },
      { period: '2021-03', resourceType: 'storage_bytes', quantity: 300 + 50, unit: 'bytes' },
    ]);
  });

  it('reads one tenant per Query, never more than SUBTREE_QUERY_CONCURRENCY at once', async () => {
    const { store, stats } = usageStore([]);
    const many = Array.from({ length: 40 }, (_, i) => id(`n${i}`));
    await usageOfTenants(store, many, { from: '2021-03-01', to: '2021-03-31', granularity: 'day' });
    expect(stats.calls).toBe(40);
    expect(stats.maxInFlight).toBe(SUBTREE_QUERY_CONCURRENCY);
  });

  it('names the tenant asked for first, then its descendants by depth and id', () => {
    const members = [
      { id: GRANDCHILD, status: 'deleted' as const, depth: 2 },
      { id: CHILD_B, status: 'active' as const, depth: 1 },
      { id: CHILD_A, status: 'active' as const, depth: 1 },
      { id: ROOT, status: 'active' as const, depth: 0 },
    ];
    expect(rollupTenants(ROOT, members)).toEqual([ROOT, CHILD_A, CHILD_B, GRANDCHILD]);
  });

  it('mapBounded keeps the order of its items and runs each once', async () => {
    const seen: number[] = [];
    const out = await mapBounded([5, 1, 3, 2, 4], 2, async (n) => {
      await new Promise((resolve) => setTimeout(resolve, n));
      seen.push(n);
      return n * 10;
    });
    expect(out).toEqual([50, 10, 30, 20, 40]);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await mapBounded([], 8, async () => 1)).toEqual([]);
  });
});

describe('finance export roll-up (rollup=root)', () => {
  const tenants: ExportTenant[] = [
    { id: ROOT, name: 'Org', plan: 'business', parentId: null, path: ROOT },
    { id: CHILD_A, name: 'Unit A', plan: 'business', parentId: ROOT, path: `${ROOT}/${CHILD_A}` },
    { id: CHILD_B, name: 'Unit B', plan: 'business', parentId: ROOT, path: `${ROOT}/${CHILD_B}` },
    {
      id: GRANDCHILD,
      name: 'Team',
      plan: 'business',
      parentId: CHILD_A,
      path: `${ROOT}/${CHILD_A}/${GRANDCHILD}`,
    },
    { id: OTHER_ROOT, name: 'Solo', plan: 'free', parentId: null, path: OTHER_ROOT },
  ];
  const catalog: TenantCatalog = {
    all: async () => tenants,
    get: async (tenantId) => tenants.find((t) => t.id === tenantId) ?? null,
  };
  const rollups = [
    rollup(CHILD_A, '2021-03-01', 'api_calls', 3),
    rollup(CHILD_B, '2021-03-02', 'api_calls', 5),
    rollup(GRANDCHILD, '2021-03-05', 'api_calls', 11),
    rollup(GRANDCHILD, '2021-03-05', 'storage_bytes', 40),
    rollup(CHILD_B, '2021-03-05', 'storage_bytes', 60),
    rollup(OTHER_ROOT, '2021-03-01', 'api_calls', 1000),
  ];
  const emptyArchive: ExportArchive = { put: async () => true, get: async () => null, list: async () => [] };
  const deps = (archive: ExportArchive = emptyArchive) => ({
    usage: usageStore(rollups).store as UsageRecords,
    tenants: catalog,
    archive,
  });

  it('gives every line its parent_id and root_id, and a root line equal to the sum of its subtree’s lines', async () => {
    // Act
    const perTenant = await monthExport(deps(), { month: '2021-03', rollup: 'tenant' });
    const perRoot = await monthExport(deps(), { month: '2021-03', rollup: 'root' });
    // Assert: the hierarchy columns.
    expect(perTenant.status).toBe('open');
    const grandchild = perTenant.lines.find((line) => line.tenantId === GRANDCHILD);
    expect(grandchild).toMatchObject({ parentId: CHILD_A, rootId: ROOT });
    expect(perTenant.lines.find((line) => line.tenantId === OTHER_ROOT)).toMatchObject({
      parentId: null,
      rootId: OTHER_ROOT,
    });
    // One line per root and resource type, each the sum of that root's lines in the default export.
    for (const line of perRoot.lines) {
      const sum = perTenant.lines
        .filter(
          (l) => l.rootId === line.tenantId && l.resourceType === line.resourceType && l.month === line.month,
        )
        .reduce((total, l) => total + l.quantity, 0);
      expect(line.quantity).toBe(sum);
    }
    expect(
      perRoot.lines.map((l) => [l.tenantId, l.tenantName, l.resourceType, l.quantity, l.parentId, l.rootId]),
    ).toEqual([
      [OTHER_ROOT, 'Solo', 'api_calls', 1000, null, OTHER_ROOT],
      [ROOT, 'Org', 'api_calls', 3 + 5 + 11, null, ROOT],
      [ROOT, 'Org', 'storage_bytes', 40 + 60, null, ROOT],
    ]);
  });

  it('with tenantId, keeps that root’s subtree (rollup=root) or that tenant alone; an unknown tenant is a 404', async () => {
    const root = await monthExport(deps(), { month: '2021-03', rollup: 'root', tenantId: ROOT });
    expect(root.lines.map((l) => [l.tenantId, l.resourceType, l.quantity])).toEqual([
      [ROOT, 'api_calls', 19],
      [ROOT, 'storage_bytes', 100],
    ]);
    // A child is no root: nothing rolls up to it (its own lines are in the default export).
    expect(
      (await monthExport(deps(), { month: '2021-03', rollup: 'root', tenantId: CHILD_A })).lines,
    ).toEqual([]);
    const one = await monthExport(deps(), { month: '2021-03', rollup: 'tenant', tenantId: CHILD_A });
    expect(one.lines.map((l) => l.tenantId)).toEqual([CHILD_A]);
    await expect(
      monthExport(deps(), { month: '2021-03', rollup: 'root', tenantId: id('nobody') }),
    ).rejects.toThrow('Tenant not found');
  });

  it('names roots without lines of their own from the catalog: one lookup for one, one listing for several', async () => {
    const calls = { all: 0, get: 0 };
    const counting: TenantCatalog = {
      all: async () => {
        calls.all++;
        return tenants;
      },
      get: async (tenantId) => {
        calls.get++;
        return catalog.get(tenantId);
      },
    };
    const child = (tenantId: string, rootId: string): ExportLine => ({
      tenantId,
      tenantName: 'a child',
      month: '2021-03',
      resourceType: 'api_calls',
      quantity: 1,
      unit: 'count',
      plan: 'business',
      parentId: rootId,
      rootId,
    });
    const one = await rollUpToRoots([child(CHILD_A, ROOT), child(CHILD_B, ROOT)], counting);
    expect(one.map((l) => [l.tenantId, l.tenantName, l.quantity])).toEqual([[ROOT, 'Org', 2]]);
    expect(calls).toEqual({ all: 0, get: 1 });
    const two = await rollUpToRoots([child(CHILD_A, ROOT), child(id('solochild'), OTHER_ROOT)], counting);
    expect(two.map((l) => [l.tenantId, l.tenantName])).toEqual([
      [OTHER_ROOT, 'Solo'],
      [ROOT, 'Org'],
    ]);
    expect(calls).toEqual({ all: 1, get: 1 });
  });

  it('rolls up an archive written before hierarchies: each line under its own tenant, adjustments by month', async () => {
    const line = (tenantId: string, month: string, quantity: number): ExportLine => ({
      tenantId,
      tenantName: tenantId === ROOT ? 'Org' : 'Unit A',
      month,
      resourceType: 'api_calls',
      quantity,
      unit: 'count',
      plan: '',
      parentId: null,
      rootId: null,
    });
    const archived: ArchivedExport = {
      month: '2021-02',
      csv: '',
      closedAt: '2021-03-01T00:30:00.000Z',
      lines: [line(ROOT, '2021-02', 4), line(CHILD_A, '2021-02', 6), line(ROOT, '2021-01', -1)],
    };
    const rolled = await rollUpToRoots(archived.lines, catalog);
    expect(rolled.map((l) => [l.tenantId, l.month, l.quantity, l.rootId])).toEqual([
      [CHILD_A, '2021-02', 6, CHILD_A],
      [ROOT, '2021-02', 4, ROOT],
      [ROOT, '2021-01', -1, ROOT],
    ]);
    const served = await monthExport(deps({ ...emptyArchive, get: async () => archived }), {
      month: '2021-02',
      rollup: 'root',
    });
    expect(served).toEqual({ status: 'closed', lines: rolled });
  });
});
