import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newDatabaseId, newTenantId } from '#shared/control/ids';
import { TenantRepository } from '#shared/control/tenant-repository';
import type { EventPublisher, OutgoingEvent } from '#shared/ports/event-publisher';
import type { SqlParams, SqlRow, SqlRunner } from '#shared/ports/sql';
import {
  type DatabaseSize,
  measureTenantStorage,
  snapshotStorage,
  TENANT_DATABASE_PAGE_SIZE,
} from '#shared/records/storage-snapshot';
import { createControlDatabase, type TempDatabase } from '../support/tenancy.ts';

/**
 * The storage snapshot reads the tenant database list in bounded keyset pages (one statement for
 * every tenant would pass the Data API's 1 MiB answer once there are a few thousand), on a real
 * control database with a page size of 2, so that a handful of tenants spans several pages and
 * one tenant's databases straddle two of them.
 */

const info = inject('platform');
let db: TempDatabase;

/** Sizes by name on the test's own connection (the job measures each as its tenant: sizeAsTenant). */
const sizeByName: DatabaseSize = async (database) => {
  const [row] = await db.runner.query<{ bytes: string }>('select pg_database_size(:name)::bigint as bytes', {
    name: database.name,
  });
  return Number(row?.bytes ?? 0);
};

/** Passes every statement through, and keeps each list statement's parameters and row count. */
function recording(sql: SqlRunner) {
  const lists: { params: SqlParams | undefined; rows: number }[] = [];
  const runner: SqlRunner = {
    query: async <T extends SqlRow = SqlRow>(text: string, params?: SqlParams) => {
      const rows = await sql.query<T>(text, params);
      if (/from tenant_databases/.test(text)) lists.push({ params, rows: rows.length });
      return rows;
    },
    execute: (text, params) => sql.execute(text, params),
    transaction: (work) => sql.transaction(work),
  };
  return { runner, lists };
}

const keepingPublisher = () => {
  const published: OutgoingEvent[] = [];
  const publisher: EventPublisher = {
    publish: async (events) => {
      published.push(...events);
      return { failed: [] };
    },
  };
  return { publisher, published };
};

// Five tenants, seven live databases (the second tenant has three, the page size is 2, so they
// fall on two pages), one deleted database that is not counted. Three names are real databases
// (their size is measured); the others do not exist and count 0 bytes.
let tenantIds: string[];
let realNames: string[];

beforeAll(async () => {
  db = await createControlDatabase(info, 'snapshot');
  const tenants = new TenantRepository(db.runner);
  tenantIds = Array.from({ length: 5 }, newTenantId).sort();
  for (const [i, tenantId] of tenantIds.entries()) {
    await tenants.create({
      tenantId,
      name: `Snapshot ${i}`,
      settings: {},
      owner: { userId: `00000000-0000-4000-8000-00000000000${i}`, email: `snapshot-${i}@example.com` },
      status: 'active',
    });
  }
  realNames = ['postgres', 'template1', db.name];
  const [a, b, c, d, e] = tenantIds as [string, string, string, string, string];
  const databases: [string, string, string][] = [
    [a, 'postgres', 'active'],
    [b, 'template1', 'active'],
    [b, 'snapshot_b_two', 'active'],
    [b, db.name, 'active'],
    [c, 'snapshot_c_one', 'active'],
    [c, 'snapshot_c_gone', 'deleted'],
    [d, 'snapshot_d_one', 'provisioning'],
    [e, 'snapshot_e_one', 'active'],
  ];
  for (const [i, [tenantId, name, status]] of databases.entries()) {
    await db.runner.execute(
      `insert into tenant_databases (id, tenant_id, label, status, database_name, role_name)
       values (:id, :tenantId, :label, :status, :name, :role)`,
      { id: newDatabaseId(), tenantId, label: `db${i}`, status, name, role: `role_${i}` },
    );
  }
});

afterAll(async () => {
  await db.drop();
});

describe('storage snapshot pages', () => {
  it('reads the list in pages of the given size and totals each tenant across pages', async () => {
    // Arrange
    const { runner, lists } = recording(db.runner);

    // Act
    const paged = await measureTenantStorage(runner, sizeByName, { pageSize: 2 });

    // Assert: 7 live databases in pages of 2 → 4 list statements, none answering more than 2 rows.
    expect(lists.map((list) => list.rows)).toEqual([2, 2, 2, 1]);
    for (const list of lists) expect(list.params?.pageSize).toBe(2);
    const byTenant = Object.fromEntries(paged.map((entry) => [entry.tenantId, entry]));
    expect(Object.keys(byTenant).sort()).toEqual(tenantIds);
    const [a, b, c, d, e] = tenantIds as [string, string, string, string, string];
    expect([a, b, c, d, e].map((id) => byTenant[id]?.databases)).toEqual([1, 3, 1, 1, 1]);
    // Real databases have a size; names that are not (yet) databases count 0 bytes.
    expect(byTenant[a]?.bytes).toBeGreaterThan(0);
    expect(byTenant[c]?.bytes).toBe(0);
    const sizes = await db.runner.query<{ bytes: string }>(
      'select sum(pg_database_size(datname))::bigint::text as bytes from pg_database where datname in (:x, :y)',
      { x: realNames[1] as string, y: realNames[2] as string },
    );
    expect(byTenant[b]?.bytes).toBeGreaterThanOrEqual(Number(sizes[0]?.bytes) - 1_000_000);
  });

  it('gives the same totals as one large page, and one usage event pair per tenant', async () => {
    const { runner, lists } = recording(db.runner);
    const paged = await measureTenantStorage(runner, sizeByName, { pageSize: 2 });
    const whole = await measureTenantStorage(db.runner, sizeByName, { pageSize: 1_000 });
    const strip = (entries: typeof paged) =>
      entries
        .map(({ tenantId, databases }) => ({ tenantId, databases }))
        .sort((x, y) => x.tenantId.localeCompare(y.tenantId));
    expect(strip(paged)).toEqual(strip(whole));
    expect(lists.length).toBeGreaterThan(1);

    const { publisher, published } = keepingPublisher();
    const result = await snapshotStorage(runner, sizeByName, publisher, new Date('2024-05-01T00:00:00Z'), {
      pageSize: 2,
    });
    expect(result).toMatchObject({ tenants: 5, events: 10 });
    const databasesEvents = published
      .map((event) => event.detail as { tenantId: string; resourceType: string; quantity: number })
      .filter((detail) => detail.resourceType === 'databases');
    expect(databasesEvents).toHaveLength(5);
    expect(databasesEvents.find((detail) => detail.tenantId === tenantIds[1])?.quantity).toBe(3);
  });

  it('pages by default too, with a bounded page, and refuses a page size that is not positive', async () => {
    const { runner, lists } = recording(db.runner);
    await measureTenantStorage(runner, sizeByName);
    expect(lists).toHaveLength(1);
    expect(lists[0]?.params?.pageSize).toBe(TENANT_DATABASE_PAGE_SIZE);
    expect(TENANT_DATABASE_PAGE_SIZE).toBeLessThanOrEqual(1_000);
    await expect(measureTenantStorage(db.runner, sizeByName, { pageSize: 0 })).rejects.toThrow(
      /not positive/,
    );
  });
});
