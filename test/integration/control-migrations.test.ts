import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { MASTER_USER } from '#infra/local/engines/aurora-master';
import { DataApiSqlRunner } from '#shared/adapters/data-api-sql';
import { ClusterRegistry } from '#shared/control/cluster-registry';
import { MembershipRepository } from '#shared/control/membership-repository';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
import { TenantRepository } from '#shared/control/tenant-repository';
import { UserRepository } from '#shared/control/user-repository';
import { Conflict } from '#shared/errors';
import { SqlConstraintViolation, type SqlRunner } from '#shared/ports/sql';
import { createTempDatabase, databaseExists, type TempDatabase } from '../support/tenancy.ts';

/**
 * The control schema's migrations and constraints, each test on a fresh temp database made as RDS
 * makes one (owned by the master) and reached as the migration custom resource reaches it.
 */

const info = inject('platform');
const versions = controlMigrations.map((m) => m.version).sort((a, b) => a - b);
const latest = Math.max(...versions);
let dbs: TempDatabase[] = [];

async function freshDatabase() {
  const db = await createTempDatabase(info, 'migrations');
  dbs.push(db);
  return db;
}

afterEach(async () => {
  for (const db of dbs) {
    await db.drop();
    expect(await databaseExists(info, db.name)).toBe(false);
  }
  dbs = [];
});

const appliedRows = (sql: SqlRunner) =>
  sql.query<{ version: number; name: string }>(
    'select version, name from schema_migrations order by version',
  );

describe('control migrations', () => {
  it('are numbered 1, 2, 3… without gaps or repeats', () => {
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    expect(controlMigrations[0]).toMatchObject({ version: 1 });
  });

  it('run as AWS runs them: through the Data API as the master, which owns the database and is no superuser', async () => {
    const { runner } = await freshDatabase();
    expect(runner).toBeInstanceOf(DataApiSqlRunner);
    const [who] = await runner.query(
      `select current_user as "user", r.rolsuper as superuser, pg_get_userbyid(d.datdba) as owner
         from pg_roles r, pg_database d where r.rolname = current_user and d.datname = current_database()`,
    );
    expect(who).toEqual({ user: MASTER_USER, superuser: false, owner: MASTER_USER });
  });

  it('on a fresh database, apply every version once, starting with version 1', async () => {
    const { runner } = await freshDatabase();
    const result = await migrate(runner, controlMigrations);
    expect(result).toEqual({ applied: versions, current: latest });
    expect(await appliedRows(runner)).toEqual(
      controlMigrations.map(({ version, name }) => ({ version, name })),
    );
    const tables = await runner.query<{ name: string }>(
      "select table_name as name from information_schema.tables where table_schema = 'public' order by 1",
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'custom_roles',
        'memberships',
        'role_assignments',
        'schema_migrations',
        'tenants',
        'users',
      ]),
    );
  });

  it('applies version 1 alone when only it is given, then the rest later', async () => {
    const { runner } = await freshDatabase();
    const first = controlMigrations.filter((m) => m.version === 1);
    expect(await migrate(runner, first)).toEqual({ applied: [1], current: 1 });
    expect(await migrate(runner, controlMigrations)).toEqual({ applied: versions.slice(1), current: latest });
  });

  it('a second run applies nothing', async () => {
    const { runner } = await freshDatabase();
    await migrate(runner, controlMigrations);
    expect(await migrate(runner, controlMigrations)).toEqual({ applied: [], current: latest });
    expect(await appliedRows(runner)).toHaveLength(versions.length);
  });

  it('concurrent migrators apply each migration exactly once', async () => {
    // Four at once on two fresh databases: a race in the migrator shows up nearly every time.
    for (const db of [await freshDatabase(), await freshDatabase()]) {
      const runners = [db.runner, db.newRunner(), db.newRunner(), db.newRunner()];
      const results = await Promise.all(runners.map((runner) => migrate(runner, controlMigrations)));
      expect(results.flatMap((r) => r.applied).sort((x, y) => x - y)).toEqual(versions);
      expect(results.map((r) => r.current)).toEqual(runners.map(() => latest));
      const counts = await db.runner.query<{ version: number; n: number }>(
        'select version, count(*)::int as n from schema_migrations group by version order by version',
      );
      expect(counts).toEqual(versions.map((version) => ({ version, n: 1 })));
    }
  });

  it('a failing migration is rolled back whole and not recorded', async () => {
    const { runner } = await freshDatabase();
    await migrate(runner, controlMigrations);
    const broken = {
      version: latest + 1,
      name: 'broken',
      statements: ['create table half_made (id int)', 'select * from no_such_table'],
    };
    await expect(migrate(runner, [...controlMigrations, broken])).rejects.toThrow();
    expect(await appliedRows(runner)).toHaveLength(versions.length);
    const half = await runner.query("select 1 from information_schema.tables where table_name = 'half_made'");
    expect(half).toEqual([]);
  });
});

describe('control schema constraints', () => {
  const T1 = 't_aaaaaaaaaaaaaaaaaaaa';
  const T2 = 't_bbbbbbbbbbbbbbbbbbbb';

  let shared: TempDatabase | undefined;
  afterAll(async () => {
    await shared?.drop();
  });

  /** One migrated database for these tests, emptied and seeded afresh for each. */
  async function seeded() {
    if (!shared) {
      shared = await createTempDatabase(info, 'constraints');
      await migrate(shared.runner, controlMigrations);
    }
    const { runner } = shared;
    await runner.execute('truncate tenants, users, memberships, custom_roles, role_assignments cascade');
    await runner.execute(
      `insert into tenants (id, name, status, created_by, path) values (:t1, 'One', 'active', 'u1', :t1), (:t2, 'Two', 'active', 'u1', :t2)`,
      { t1: T1, t2: T2 },
    );
    await runner.execute(
      `insert into users (id, email) values ('u1', 'one@example.com'), ('u2', 'two@example.com')`,
    );
    await runner.execute(`insert into memberships (tenant_id, user_id, role) values (:t1, 'u1', 'owner')`, {
      t1: T1,
    });
    return runner;
  }

  const violation = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SqlConstraintViolation);
    return error as SqlConstraintViolation;
  };

  it('one membership per user and tenant (unique)', async () => {
    const sql = await seeded();
    const error = await violation(
      sql.execute(`insert into memberships (tenant_id, user_id, role) values (:t1, 'u1', 'viewer')`, {
        t1: T1,
      }),
    );
    expect(error.kind).toBe('unique');
    await sql.execute(`insert into memberships (tenant_id, user_id, role) values (:t2, 'u1', 'viewer')`, {
      t2: T2,
    });
  });

  it('role names are unique per tenant, case-insensitively, and free across tenants', async () => {
    const sql = await seeded();
    const insert = (id: string, tenantId: string, name: string) =>
      sql.execute(
        `insert into custom_roles (id, tenant_id, name, permissions) values (:id, :tenantId, :name, '["rows:read"]'::jsonb)`,
        { id, tenantId, name },
      );
    await insert('r_aaaaaaaaaaaaaaaa', T1, 'Auditors');
    expect((await violation(insert('r_bbbbbbbbbbbbbbbb', T1, 'AUDITORS'))).kind).toBe('unique');
    expect((await violation(insert('r_cccccccccccccccc', T1, 'auditors'))).kind).toBe('unique');
    await insert('r_dddddddddddddddd', T2, 'auditors');
  });

  it('a tenant status outside the lifecycle is a check violation', async () => {
    const sql = await seeded();
    const error = await violation(
      sql.execute(`update tenants set status = 'paused' where id = :t1`, { t1: T1 }),
    );
    expect(error.kind).toBe('check');
    expect(
      (
        await violation(
          sql.execute(
            `insert into tenants (id, name, status, created_by, path) values ('t_cccccccccccccccccccc', 'x', 'on', 'u1', 't_cccccccccccccccccccc')`,
          ),
        )
      ).kind,
    ).toBe('check');
  });

  it("a tenant's path must run from its root to itself through its parent", async () => {
    const sql = await seeded();
    const child = 't_cccccccccccccccccccc';
    const insertChild = (parentId: string | null, path: string) =>
      sql.execute(
        `insert into tenants (id, name, status, created_by, parent_id, path) values (:child, 'c', 'active', 'u1', :parentId, :path)`,
        { child, parentId, path },
      );
    const kinds = await Promise.all([
      violation(insertChild(T1, child)), // a child whose path forgets its parent
      violation(insertChild(null, `${T1}/${child}`)), // a root with ancestors
      violation(insertChild(T2, `${T1}/${child}`)), // a path through another parent
      violation(insertChild(T1, `${T1}/${T2}`)), // a path that ends elsewhere
    ]);
    expect(kinds.map((e) => e.kind)).toEqual(['check', 'check', 'check', 'check']);
    await insertChild(T1, `${T1}/${child}`);
    const [row] = await sql.query<{ parentId: string; inheritAccess: boolean }>(
      'select parent_id as "parentId", inherit_access as "inheritAccess" from tenants where id = :child',
      { child },
    );
    expect(row).toEqual({ parentId: T1, inheritAccess: true });
  });

  it('tenant ids, names, member roles and permission matrices are checked too', async () => {
    const sql = await seeded();
    const kinds = await Promise.all([
      violation(
        sql.execute(
          `insert into tenants (id, name, status, created_by, path) values ('1', 'x', 'active', 'u1', '1')`,
        ),
      ),
      violation(
        sql.execute(
          `insert into tenants (id, name, status, created_by, path) values ('t_cccccccccccccccccccc', '', 'active', 'u1', 't_cccccccccccccccccccc')`,
        ),
      ),
      violation(
        sql.execute(`insert into memberships (tenant_id, user_id, role) values (:t2, 'u2', 'root')`, {
          t2: T2,
        }),
      ),
      violation(
        sql.execute(
          `insert into custom_roles (id, tenant_id, name, permissions) values ('r_eeeeeeeeeeeeeeee', :t1, 'x', '{}'::jsonb)`,
          { t1: T1 },
        ),
      ),
    ]);
    expect(kinds.map((e) => e.kind)).toEqual(['check', 'check', 'check', 'check']);
  });

  it('emails are unique case-insensitively; memberships and assignments need real tenants, users and roles', async () => {
    const sql = await seeded();
    expect(
      (await violation(sql.execute(`insert into users (id, email) values ('u3', 'ONE@example.com')`))).kind,
    ).toBe('unique');
    expect(
      (
        await violation(
          sql.execute(`insert into memberships (tenant_id, user_id, role) values (:t1, 'nobody', 'viewer')`, {
            t1: T1,
          }),
        )
      ).kind,
    ).toBe('foreign_key');
    await sql.execute(
      `insert into custom_roles (id, tenant_id, name, permissions) values ('r_ffffffffffffffff', :t2, 'two', '["rows:read"]'::jsonb)`,
      { t2: T2 },
    );
    // A role of tenant Two cannot be assigned inside tenant One (composite foreign key).
    expect(
      (
        await violation(
          sql.execute(
            `insert into role_assignments (tenant_id, user_id, role_id) values (:t1, 'u1', 'r_ffffffffffffffff')`,
            { t1: T1 },
          ),
        )
      ).kind,
    ).toBe('foreign_key');
  });

  it('deleting a tenant cascades to its memberships, roles and assignments', async () => {
    const sql = await seeded();
    await sql.execute(
      `insert into custom_roles (id, tenant_id, name, permissions) values ('r_gggggggggggggggg', :t1, 'g', '["rows:read"]'::jsonb)`,
      { t1: T1 },
    );
    await sql.execute(
      `insert into role_assignments (tenant_id, user_id, role_id) values (:t1, 'u1', 'r_gggggggggggggggg')`,
      {
        t1: T1,
      },
    );
    await sql.execute('update users set active_tenant_id = :t1 where id = :u', { t1: T1, u: 'u1' });
    await sql.execute('delete from tenants where id = :t1', { t1: T1 });
    for (const table of ['memberships', 'custom_roles', 'role_assignments']) {
      expect(await sql.query(`select 1 from ${table} where tenant_id = :t1`, { t1: T1 })).toEqual([]);
    }
    expect(await sql.query('select active_tenant_id as "a" from users where id = :u', { u: 'u1' })).toEqual([
      { a: null },
    ]);
  });
});

describe('tenant directory: integrity refusals are 409s', () => {
  it('inviting an account whose email another account already holds is a Conflict, not a 500', async () => {
    const db = await freshDatabase();
    await migrate(db.runner, controlMigrations);
    const users = new UserRepository(db.runner);
    const tenants = new TenantRepository(db.runner);
    const memberships = new MembershipRepository(db.runner);
    const owner = { userId: '11111111-1111-4111-8111-111111111111', email: 'owner@example.com' };
    await tenants.create({
      tenantId: 't_aaaaaaaaaaaaaaaaaaaa',
      name: 'Acme',
      settings: {},
      owner,
      status: 'active',
    });
    await users.upsert('22222222-2222-4222-8222-222222222222', 'Someone@Example.com');

    const attempt = memberships.add(
      't_aaaaaaaaaaaaaaaaaaaa',
      { userId: '33333333-3333-4333-8333-333333333333', email: 'someone@example.com' },
      'member',
    );

    await expect(attempt).rejects.toBeInstanceOf(Conflict);
    expect(await memberships.list('t_aaaaaaaaaaaaaaaaaaaa', 10, undefined)).toMatchObject({
      items: [owner],
    });
  });
});

describe('the cluster registry (migration 14, ClusterRegistry.sync)', () => {
  const primary = { id: 'primary', name: 'Primary', capacity: 400 };
  const c2 = { id: 'c2', name: 'Second', capacity: 300 };

  it('registers the clusters databases were placed on before it existed, so their rows keep a registered cluster', async () => {
    const { runner } = await freshDatabase();
    await migrate(
      runner,
      controlMigrations.filter((m) => m.version < 14),
    );
    await runner.execute(
      `insert into tenants (id, name, status, created_by, path) values ('t_aaaaaaaaaaaaaaaaaaaa', 'T', 'active', 'u', 't_aaaaaaaaaaaaaaaaaaaa')`,
    );
    await runner.execute(
      `insert into tenant_databases (id, tenant_id, label, status, cluster_id, database_name, role_name)
       values ('d_aaaaaaaaaaaaaaaa', 't_aaaaaaaaaaaaaaaaaaaa', 'main', 'active', 'primary', 'tdb_x', 'tr_x')`,
    );

    await migrate(runner, controlMigrations);

    const registry = new ClusterRegistry(runner);
    expect(await registry.withLoad()).toEqual([
      expect.objectContaining({
        id: 'primary',
        name: 'primary',
        state: 'open',
        capacity: 500,
        tenants: 1,
        databases: 1,
        poolDatabases: 0,
      }),
    ]);
    // A placement must name a registered cluster from now on.
    await expect(
      runner.execute(`update tenant_databases set cluster_id = 'nowhere' where id = 'd_aaaaaaaaaaaaaaaa'`),
    ).rejects.toBeInstanceOf(SqlConstraintViolation);
  });

  it("inserts new clusters open, takes names and capacities from the configuration, keeps the admins' states, and closes the ones no longer configured", async () => {
    const { runner } = await freshDatabase();
    await migrate(runner, controlMigrations);
    const registry = new ClusterRegistry(runner);

    expect(await registry.sync([primary, c2])).toEqual({ added: ['primary', 'c2'], closed: [] });
    await registry.update('primary', { state: 'draining' });
    const c3 = { id: 'c3', name: 'Third', capacity: 10 };
    const second = await registry.sync([{ ...primary, name: 'Renamed', capacity: 450 }, c3]);

    expect(second).toEqual({ added: ['c3'], closed: ['c2'] });
    const states = (await registry.withLoad()).map(({ id, name, state, capacity }) => ({
      id,
      name,
      state,
      capacity,
    }));
    expect(states).toEqual([
      { id: 'primary', name: 'Renamed', state: 'draining', capacity: 450 },
      { id: 'c2', name: 'Second', state: 'closed', capacity: 300 },
      { id: 'c3', name: 'Third', state: 'open', capacity: 10 },
    ]);
    // Configured again: it stays closed until an admin reopens it (the state is theirs).
    expect(await registry.sync([primary, c2, c3])).toEqual({ added: [], closed: [] });
    expect((await registry.get('c2'))?.state).toBe('closed');
  });

  it('refuses a state or capacity the registry does not know, changing nothing', async () => {
    const { runner } = await freshDatabase();
    await migrate(runner, controlMigrations);
    const registry = new ClusterRegistry(runner);
    await registry.sync([primary]);

    await expect(registry.update('primary', { capacity: -1 })).rejects.toBeInstanceOf(SqlConstraintViolation);
    await expect(registry.update('nowhere', { state: 'closed' })).rejects.toThrow('Cluster not found');
    expect(await registry.get('primary')).toMatchObject({ state: 'open', capacity: 400 });
  });
});
