import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { POOL_APP_USER, POOL_DATABASE } from '#shared/provisioning/names';
import { RECORD_JOB_HANDLERS } from '#shared/records/scheduled-jobs';
import { type Actor, eventually, newActor } from '../support/actors.ts';
import { invokeLocalFunction } from '../support/local-jobs.ts';
import { POOLED_TEST_PLAN } from '../support/platform-process.ts';
import { dataApiRunner, errorOf, expectStatus, withPg } from '../support/tenancy.ts';
import { placementOf, tenantWithDatabase } from '../support/tenant-data.ts';

/**
 * The pooled tier (docs/isolation-modes.md) on the local platform: a tenant registered on a pooled
 * plan lives in schemas of the cluster's pool database, reached through the pool login role, and
 * no pooled tenant's role can read another's schema, even with hand-written SQL sent as that role.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

type PooledTenant = Awaited<ReturnType<typeof tenantWithDatabase>>;

describe('pooled tenants', () => {
  let admin: Actor;
  let ownerA: Actor;
  let ownerB: Actor;
  let a: PooledTenant;
  let b: PooledTenant;

  beforeAll(async () => {
    [admin, ownerA, ownerB] = await Promise.all([
      newActor(client, 'pool-admin', { groups: ['platform-admin'] }),
      newActor(client, 'pool-owner-a'),
      newActor(client, 'pool-owner-b'),
    ]);
    [a, b] = await Promise.all([
      tenantWithDatabase(ownerA, {}, { isolation: 'pool', registrar: admin }),
      tenantWithDatabase(ownerB, {}, { isolation: 'pool', registrar: admin }),
    ]);
    for (const [owner, tenant] of [
      [ownerA, a],
      [ownerB, b],
    ] as const) {
      expectStatus(
        await owner.call('POST', `${tenant.base}/tables`, {
          name: 'notes',
          columns: [{ name: 'body', type: 'text' }],
        }),
        201,
      );
      expectStatus(
        await owner.call('POST', `${tenant.base}/tables/notes/rows`, { body: `of ${tenant.tenantId}` }),
        201,
      );
    }
  });

  it('shows the isolation on the tenant, and places each database in a schema of the pool database', async () => {
    const tenant = expectStatus(await ownerA.call('GET', `/tenants/${a.tenantId}`), 200).body as {
      isolation: string;
      plan: string;
    };
    expect(tenant).toMatchObject({ isolation: 'pool', plan: POOLED_TEST_PLAN });
    const placement = await placementOf(info, a.databaseId);
    expect(placement.database).toBe(POOL_DATABASE);
    expect(placement.schema).toMatch(/^db_[a-z2-7]{16}$/);
    // No tenant secret: the pool's is recorded as the database's.
    const secret = await withPg(
      info,
      'control',
      async (pg) =>
        (await pg.query('select secret_arn from tenant_databases where id = $1', [a.databaseId])).rows[0]
          .secret_arn,
    );
    expect(secret).toBe(info.dataApi.poolSecretArn);
    const tables = await withPg(
      info,
      POOL_DATABASE,
      async (pg) =>
        (
          await pg.query(
            `select tableowner as owner from pg_tables where schemaname = $1 and tablename = 'notes'`,
            [placement.schema],
          )
        ).rows,
    );
    expect(tables).toEqual([{ owner: expect.stringMatching(/^tenant_/) }]);
  });

  it('serves each tenant its own rows through the API', async () => {
    for (const [owner, tenant] of [
      [ownerA, a],
      [ownerB, b],
    ] as const) {
      const page = expectStatus(await owner.call('GET', `${tenant.base}/tables/notes/rows`), 200).body as {
        items: { body: string }[];
      };
      expect(page.items.map((row) => row.body)).toEqual([`of ${tenant.tenantId}`]);
    }
    // Another tenant's database id answers like an unknown one.
    expect(expectStatus(await ownerA.call('GET', `${b.base}/tables/notes/rows`), 404).status).toBe(404);
  });

  it("refuses hand-written SQL sent as one pooled tenant's role against another's schema", async () => {
    const { runner: pool, close } = dataApiRunner(info, POOL_DATABASE, info.dataApi.poolSecretArn);
    const [{ schema: schemaA, role: roleA }, { schema: schemaB, role: roleB }] = [
      await placementOf(info, a.databaseId),
      await placementOf(info, b.databaseId),
    ];
    try {
      // As A: its own table, yes; B's schema, no (qualified, through the catalog or by search path).
      await pool.transaction(async (tx) => {
        await tx.query(`select set_config('role', :role, true)`, { role: roleA });
        const own = await tx.query<{ body: string }>(`select body from "${schemaA}".notes`);
        expect(own.map((row) => row.body)).toEqual([`of ${a.tenantId}`]);
      });
      for (const statement of [
        `select body from "${schemaB}".notes`,
        `insert into "${schemaB}".notes (body) values ('x')`,
        `create table "${schemaB}".planted (id int)`,
      ]) {
        await expect(
          pool.transaction(async (tx) => {
            await tx.query(`select set_config('role', :role, true)`, { role: roleA });
            await tx.query(statement);
          }),
        ).rejects.toThrow(/permission denied for schema/);
      }
      // The login role itself has no tenant's privileges (granted WITH INHERIT FALSE).
      for (const schema of [schemaA, schemaB]) {
        await expect(pool.query(`select body from "${schema}".notes`)).rejects.toThrow(
          /permission denied for schema/,
        );
      }
      // Nor may it make anything of its own in the pool database.
      await expect(pool.execute('create table public.planted (id int)')).rejects.toThrow(
        /permission denied for schema public/,
      );
      // B's rows are untouched.
      const rowsB = await withPg(info, POOL_DATABASE, async (pg) =>
        (await pg.query(`select body from "${schemaB}".notes`)).rows.map((row) => row.body),
      );
      expect(rowsB).toEqual([`of ${b.tenantId}`]);
      expect(roleB).not.toBe(roleA);
    } finally {
      close();
    }
  });

  it('gives the pool login role no other way in: no other database, no superuser roles', async () => {
    const other = dataApiRunner(info, 'control', info.dataApi.poolSecretArn);
    try {
      await expect(other.runner.query('select 1')).rejects.toThrow();
    } finally {
      other.close();
    }
    const attributes = await withPg(
      info,
      'postgres',
      async (pg) =>
        (
          await pg.query(
            'select rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin from pg_roles where rolname = $1',
            [POOL_APP_USER],
          )
        ).rows,
    );
    expect(attributes).toEqual([
      { rolsuper: false, rolinherit: false, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true },
    ]);
  });

  it('refuses a plan from a caller who is not a platform admin, and an unknown plan, making nothing', async () => {
    const before = await withPg(info, 'control', async (pg) =>
      Number((await pg.query('select count(*) from tenants')).rows[0].count),
    );
    const refused = await ownerA.call('POST', '/tenants', { name: 'Chooser', plan: POOLED_TEST_PLAN });
    expect(refused.status).toBe(403);
    const unknown = await admin.call('POST', '/tenants', { name: 'Unknown plan', plan: 'no-such-plan' });
    expect(unknown.status).toBe(400);
    expect(errorOf(unknown)?.details).toEqual([
      expect.objectContaining({ path: 'plan', code: 'unknown_plan' }),
    ]);
    const after = await withPg(info, 'control', async (pg) =>
      Number((await pg.query('select count(*) from tenants')).rows[0].count),
    );
    // Other files' tenants may appear meanwhile: none of these two.
    const named = await withPg(info, 'control', async (pg) =>
      Number(
        (await pg.query(`select count(*) from tenants where name in ('Chooser', 'Unknown plan')`)).rows[0]
          .count,
      ),
    );
    expect(named).toBe(0);
    expect(after).toBeGreaterThanOrEqual(before);
  });

  it('backs a pooled tenant up, restores it into a new pooled database and clones it into a silo one, rows identical', async () => {
    expectStatus(await ownerA.call('POST', `${a.base}/tables/notes/rows`, { body: 'second' }), 201);
    const rowsOf = async (tenantId: string, databaseId: string) =>
      (
        expectStatus(
          await ownerA.call(
            'GET',
            `/tenants/${tenantId}/databases/${databaseId}/tables/notes/rows?limit=100`,
          ),
          200,
        ).body as { items: { id: string; body: string }[] }
      ).items
        .map(({ id, body }) => ({ id, body }))
        .sort((x, y) => x.id.localeCompare(y.id));
    const original = await rowsOf(a.tenantId, a.databaseId);
    const started = expectStatus(await ownerA.call('POST', `/tenants/${a.tenantId}/backups`, {}), 202)
      .body as {
      id: string;
    };
    const backup = await eventually(
      () => ownerA.call('GET', `/tenants/${a.tenantId}/backups/${started.id}`),
      (r) => (r.body as { status: string }).status !== 'running',
      90_000,
    );
    const done = expectStatus(backup, 200).body as {
      status: string;
      manifest: { databases: { tables: { name: string; rows: number }[] }[] };
    };
    expect(done.status).toBe('completed');
    expect(done.manifest.databases[0]?.tables).toContainEqual(
      expect.objectContaining({ name: 'notes', rows: 2 }),
    );

    const restore = expectStatus(
      await ownerA.call('POST', `/tenants/${a.tenantId}/backups/${started.id}/restore`, {
        databaseId: a.databaseId,
      }),
      202,
    ).body as { id?: string; databaseId?: string };
    const restoredId = (restore.databaseId ?? restore.id) as string;
    await eventually(
      () => ownerA.call('GET', `/tenants/${a.tenantId}/databases`),
      (r) =>
        (r.body as { items: { id: string; status: string }[] }).items.some(
          (db) => db.id === restoredId && db.status !== 'restoring',
        ),
      90_000,
    );
    expect((await placementOf(info, restoredId)).database).toBe(POOL_DATABASE);
    expect(await rowsOf(a.tenantId, restoredId)).toEqual(original);

    const clone = expectStatus(
      await ownerA.call('POST', `/tenants/${a.tenantId}/clone`, { name: 'Pooled clone', include: ['data'] }),
      202,
    ).body as { id: string; isolation: string };
    // A clone starts on the default plan, which is silo here: a pooled backup loads into a silo database.
    expect(clone.isolation).toBe('silo');
    const settled = await eventually(
      () => ownerA.call('GET', `/tenants/${clone.id}`),
      (r) => (r.body as { status: string }).status !== 'provisioning',
      90_000,
    );
    expect((settled.body as { status: string }).status).toBe('active');
    const [cloneDb] = (
      expectStatus(await ownerA.call('GET', `/tenants/${clone.id}/databases`), 200).body as {
        items: { id: string }[];
      }
    ).items;
    expect((await placementOf(info, cloneDb?.id as string)).schema).toBeNull();
    expect((await rowsOf(clone.id, cloneDb?.id as string)).map((row) => row.body)).toEqual(
      original.map((row) => row.body),
    );
  });

  it("measures a pooled tenant's storage by its schema, run as the scheduled job", async () => {
    const answer = await invokeLocalFunction(info, RECORD_JOB_HANDLERS.storageSnapshot);
    expect(answer.error).toBeUndefined();
    const today = new Date().toISOString().slice(0, 10);
    const usageOf = async (owner: Actor, tenantId: string) => {
      const response = await eventually(
        () =>
          owner.call(
            'GET',
            `/tenants/${tenantId}/usage?resourceType=storage_bytes&from=${today}&to=${today}`,
          ),
        (r) => ((r.body as { items?: unknown[] }).items ?? []).length > 0,
      );
      return (expectStatus(response, 200).body as { items: { quantity: number }[] }).items[0]?.quantity ?? 0;
    };
    const [bytesA, bytesB] = [await usageOf(ownerA, a.tenantId), await usageOf(ownerB, b.tenantId)];
    // Its own tables only: a few pages each, far below the shared pool database's size.
    const poolBytes = await withPg(info, POOL_DATABASE, async (pg) =>
      Number((await pg.query('select pg_database_size(current_database()) as n')).rows[0].n),
    );
    for (const bytes of [bytesA, bytesB]) {
      expect(bytes).toBeGreaterThan(0);
      expect(bytes).toBeLessThan(poolBytes / 4);
    }
  });

  it('offboarding drops the schema and the role, and leaves the other pooled tenants be', async () => {
    const { tenantId, databaseId } = await tenantWithDatabase(
      ownerA,
      {},
      { isolation: 'pool', registrar: admin },
    );
    const { schema, role } = await placementOf(info, databaseId);
    expectStatus(await ownerA.call('DELETE', `/tenants/${tenantId}`), 202);
    await eventually(
      () => ownerA.call('GET', `/tenants/${tenantId}`),
      (response) => response.status === 404,
      30_000,
    );
    const left = await withPg(info, POOL_DATABASE, async (pg) => ({
      schemas: (await pg.query('select 1 from pg_namespace where nspname = $1', [schema])).rowCount,
      roles: (await pg.query('select 1 from pg_roles where rolname = $1', [role])).rowCount,
    }));
    expect(left).toEqual({ schemas: 0, roles: 0 });
    const stillThere = expectStatus(await ownerB.call('GET', `${b.base}/tables/notes/rows`), 200).body as {
      items: unknown[];
    };
    expect(stillThere.items).toHaveLength(1);
  });
});
