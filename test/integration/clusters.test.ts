import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { type Actor, eventually, newActor, newTenant } from '../support/actors.ts';
import { TEST_CLUSTERS } from '../support/platform-process.ts';
import { errorOf, expectStatus, unknownTenantId, withPg } from '../support/tenancy.ts';

/**
 * Several clusters on the local platform (issue 18; docs/clusters.md): the test platform runs two
 * PostgreSQL servers as `primary` and `c2` (TEST_CLUSTERS). The registry, the platform admins'
 * routes, and placement across both: a pinned tenant's database is made on c2's server and used
 * through the Data API there, an unpinned one goes to the cluster with the most headroom.
 *
 * c2 is changed (drained, closed) by this file only: the other files' tenants never go there
 * (primary's headroom is far larger), so they are not disturbed.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

interface ClusterView {
  id: string;
  name: string;
  state: string;
  capacity: number;
  tenants: number;
  databases: number;
  poolDatabases: number;
}
interface DatabaseView {
  id: string;
  status: string;
  clusterId: string | null;
}

/** Whether a database of that name exists on the cluster's own PostgreSQL server. */
async function existsOn(clusterId: string, database: string): Promise<boolean> {
  const cluster = info.clusters.find((c) => c.id === clusterId);
  if (!cluster) throw new Error(`no cluster ${clusterId} in platform.json`);
  const server = new pg.Client({ ...cluster.postgres, database: 'postgres' });
  await server.connect();
  try {
    const found = await server.query('select 1 from pg_database where datname = $1', [database]);
    return found.rowCount === 1;
  } finally {
    await server.end();
  }
}

const databaseNameOf = (databaseId: string) =>
  withPg(info, 'control', async (c) => {
    const found = await c.query<{ name: string }>(
      'select database_name as name from tenant_databases where id = $1',
      [databaseId],
    );
    return found.rows[0]?.name ?? '';
  });

describe('several clusters', () => {
  let admin: Actor;
  let owner: Actor;
  let tenantId: string;

  const clusters = async () =>
    (expectStatus(await admin.call('GET', '/clusters'), 200).body as { items: ClusterView[] }).items;
  const clusterC2 = async () => (await clusters()).find((c) => c.id === 'c2') as ClusterView;
  const setC2 = async (change: object) =>
    expectStatus(await admin.call('PATCH', '/clusters/c2', change), 200);
  const pin = (id: string, clusterId: string | null) =>
    admin.call('PUT', `/tenants/${id}/placement`, { clusterId });
  /** Adds a database to the tenant and waits until its provisioning has ended. */
  const addDatabase = async (id: string) => {
    const created = expectStatus(
      await owner.call('POST', `/tenants/${id}/databases`, { label: `db-${randomUUID().slice(0, 8)}` }),
      202,
    );
    const databaseId = (created.body as { id: string }).id;
    const of = async () =>
      ((await owner.call('GET', `/tenants/${id}/databases`)).body as { items: DatabaseView[] }).items.find(
        (db) => db.id === databaseId,
      );
    const done = await eventually(of, (db) => db !== undefined && db.status !== 'provisioning', 60_000);
    if (!done) throw new Error(`database ${databaseId} is not listed`);
    return done;
  };

  beforeAll(async () => {
    [admin, owner] = await Promise.all([
      newActor(client, 'clusters-admin', { groups: ['platform-admin'] }),
      newActor(client, 'clusters-owner'),
    ]);
    ({ tenantId } = await newTenant(owner));
  }, 120_000);

  afterAll(async () => {
    await admin.call('PATCH', '/clusters/c2', { state: 'open', capacity: TEST_CLUSTERS[1].capacity });
  });

  it('lists the configured clusters from the registry, primary first, to platform admins only', async () => {
    const items = await clusters();

    expect(items.map(({ id, name, capacity }) => ({ id, name, capacity }))).toEqual(
      TEST_CLUSTERS.map(({ id, name, capacity }) => ({ id, name, capacity })),
    );
    expect(items.every((c) => c.state === 'open' || c.id === 'c2')).toBe(true);
    expect(items[0]?.databases).toBeGreaterThanOrEqual(1);
    expect(items[0]?.tenants).toBeGreaterThanOrEqual(1);
    expect(items.every((c) => Number.isInteger(c.poolDatabases) && c.poolDatabases >= 0)).toBe(true);
    const refused = await owner.call('GET', '/clusters');
    expect(refused.status).toBe(403);
  });

  it("counts a pooled tenant's database in its cluster's poolDatabases, not in its databases", async () => {
    const before = (await clusters()).find((c) => c.id === 'primary') as ClusterView;

    const { tenantId: pooled } = await newTenant(
      owner,
      undefined,
      {},
      { isolation: 'pool', registrar: admin },
    );

    const databases = (
      expectStatus(await owner.call('GET', `/tenants/${pooled}/databases`), 200).body as {
        items: DatabaseView[];
      }
    ).items;
    expect(databases.map((db) => db.clusterId)).toEqual(['primary']);
    const after = (await clusters()).find((c) => c.id === 'primary') as ClusterView;
    // Other files make tenants meanwhile: at least this one more pooled database.
    expect(after.poolDatabases).toBeGreaterThanOrEqual(before.poolDatabases + 1);
  }, 90_000);

  it("places an unpinned tenant's databases on the open cluster with the most headroom", async () => {
    const items = await clusters();
    const headroom = (c: ClusterView) => (c.state === 'open' ? c.capacity - c.databases : -Infinity);
    const best = [...items].sort((a, b) => headroom(b) - headroom(a))[0];

    const database = await addDatabase(tenantId);

    expect(database.status).toBe('active');
    expect(database.clusterId).toBe(best?.id);
  }, 90_000);

  it("makes a pinned tenant's new databases on the pinned cluster's own server, usable there", async () => {
    const before = await clusterC2();
    const pinned = expectStatus(await pin(tenantId, 'c2'), 200).body as { pinnedClusterId: string | null };
    expect(pinned.pinnedClusterId).toBe('c2');
    const read = expectStatus(await owner.call('GET', `/tenants/${tenantId}`), 200).body as {
      pinnedClusterId: string | null;
    };
    expect(read.pinnedClusterId).toBe('c2');

    const database = await addDatabase(tenantId);

    expect(database).toMatchObject({ status: 'active', clusterId: 'c2' });
    const name = await databaseNameOf(database.id);
    expect(await existsOn('c2', name)).toBe(true);
    expect(await existsOn('primary', name)).toBe(false);
    // Through the Data API on c2, with the tenant's own role: a table and a row, read back.
    const base = `/tenants/${tenantId}/databases/${database.id}`;
    expectStatus(
      await owner.call('POST', `${base}/tables`, {
        name: 'notes',
        columns: [{ name: 'body', type: 'text' }],
      }),
      201,
    );
    expectStatus(await owner.call('POST', `${base}/tables/notes/rows`, { body: 'on c2' }), 201);
    const rows = expectStatus(await owner.call('GET', `${base}/tables/notes/rows`), 200).body as {
      items: { body: string }[];
    };
    expect(rows.items.map((row) => row.body)).toEqual(['on c2']);
    const after = await clusterC2();
    expect(after.databases).toBe(before.databases + 1);
    expect(after.tenants).toBe(before.tenants + 1);
  }, 120_000);

  it('still places a pinned tenant on a draining cluster (draining stops only automatic placement)', async () => {
    expect((await setC2({ state: 'draining' })).body).toMatchObject({ id: 'c2', state: 'draining' });

    const database = await addDatabase(tenantId);

    expect(database).toMatchObject({ status: 'active', clusterId: 'c2' });
    await setC2({ state: 'open' });
  }, 90_000);

  it('refuses a pin to a closed cluster (409), and fails a pinned provisioning there, leaving nothing', async () => {
    const { tenantId: other } = await newTenant(owner);
    expectStatus(await pin(other, 'c2'), 200);
    await setC2({ state: 'closed' });

    const refused = expectStatus(await pin(tenantId, 'c2'), 409);
    expect(errorOf(refused)?.code).toBe('cluster_closed');
    const database = await addDatabase(other);

    expect(database.status).toBe('failed');
    expect(database.clusterId).toBeNull();
    expect(await existsOn('c2', await databaseNameOf(database.id))).toBe(false);
    expect(await existsOn('primary', await databaseNameOf(database.id))).toBe(false);
    await setC2({ state: 'open' });
  }, 120_000);

  it('unpins with null: the next database goes where placement chooses again', async () => {
    const unpinned = expectStatus(await pin(tenantId, null), 200).body as { pinnedClusterId: string | null };
    expect(unpinned.pinnedClusterId).toBeNull();

    const database = await addDatabase(tenantId);

    expect(database).toMatchObject({ status: 'active', clusterId: 'primary' });
  }, 90_000);

  it('changes a capacity, and answers 404 for an unknown cluster or tenant, 400 for bad input, changing nothing', async () => {
    expect((await setC2({ capacity: 7 })).body).toMatchObject({ id: 'c2', capacity: 7, state: 'open' });
    expect((await admin.call('PATCH', '/clusters/zz9', { state: 'closed' })).status).toBe(404);
    expect((await pin(tenantId, 'zz9')).status).toBe(404);
    expect((await pin(unknownTenantId(), 'c2')).status).toBe(404);
    for (const bad of [
      {},
      { state: 'gone' },
      { capacity: -1 },
      { capacity: 1.5 },
      { state: 'open', extra: 1 },
    ]) {
      expect((await admin.call('PATCH', '/clusters/c2', bad)).status, JSON.stringify(bad)).toBe(400);
    }
    for (const bad of [{}, { clusterId: 'Not-An-Id' }, { clusterId: 3 }]) {
      expect(
        (await admin.call('PUT', `/tenants/${tenantId}/placement`, bad)).status,
        JSON.stringify(bad),
      ).toBe(400);
    }
    expect(await clusterC2()).toMatchObject({ capacity: 7, state: 'open' });
  });

  it('moves a database to c2 over the API (not to a closed cluster): the same id, rows identical, gone from primary', async () => {
    const { tenantId: moving } = await newTenant(owner);
    const databases = expectStatus(await owner.call('GET', `/tenants/${moving}/databases`), 200).body as {
      items: DatabaseView[];
    };
    const databaseId = databases.items[0]?.id ?? '';
    const base = `/tenants/${moving}/databases/${databaseId}`;
    expectStatus(
      await owner.call('POST', `${base}/tables`, {
        name: 'notes',
        columns: [{ name: 'body', type: 'text' }],
      }),
      201,
    );
    const rows = Array.from({ length: 50 }, (_, n) => ({ body: `note ${n}` }));
    expectStatus(await owner.call('POST', `${base}/tables/notes/rows/batch`, { rows }), 201);
    const rowsNow = async () =>
      expectStatus(await owner.call('GET', `${base}/tables/notes/rows?limit=100`), 200).body;
    const before = await rowsNow();
    const name = await databaseNameOf(databaseId);
    const move = (clusterId: string) => admin.call('POST', `${base}/move`, { clusterId });

    await setC2({ state: 'closed' });
    expect(errorOf(expectStatus(await move('c2'), 409))?.code).toBe('cluster_closed');
    await setC2({ state: 'open' });
    expect(errorOf(expectStatus(await move('primary'), 409))).toMatchObject({ reason: 'already_there' });
    expect(
      (await admin.call('POST', `/tenants/${moving}/databases/d_aaaaaaaaaaaaaaaa/move`, { clusterId: 'c2' }))
        .status,
    ).toBe(404);
    expect((await owner.call('POST', `${base}/move`, { clusterId: 'c2' })).status).toBe(403);

    const started = expectStatus(await move('c2'), 202).body as { moveId: string };
    const moved = await eventually(
      async () =>
        expectStatus(await admin.call('GET', `/tenants/${moving}/provisioning`), 200).body as {
          move: { moveId: string; phase: string };
          databases: DatabaseView[];
        },
      (status) =>
        status.move?.moveId === started.moveId && ['completed', 'failed'].includes(status.move.phase),
      120_000,
    );

    expect(moved.move.phase).toBe('completed');
    expect(moved.databases).toEqual([
      expect.objectContaining({ id: databaseId, clusterId: 'c2', status: 'active' }),
    ]);
    expect(await existsOn('c2', name)).toBe(true);
    expect(await existsOn('primary', name)).toBe(false);
    expect(await rowsNow()).toEqual(before);
    expectStatus(await owner.call('POST', `${base}/tables/notes/rows`, { body: 'on c2' }), 201);
  }, 150_000);
});
