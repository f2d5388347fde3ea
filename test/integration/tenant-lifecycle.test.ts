import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { CONTROL_DATABASE } from '#infra/local/platform-info';
import { databaseNameFor, roleNameFor } from '#shared/provisioning/names';
import { type Actor, addMember, eventually, newActor, newTenant } from '../support/actors.ts';
import { tenantSecretOf } from '../support/tenant-secrets.ts';

const info = inject('platform');

const secretOf = (tenantId: string) => tenantSecretOf(info, tenantId);

async function connectAs(user: string, password: string, database: string) {
  const client = new pg.Client({
    host: info.postgres.host,
    port: info.postgres.port,
    user,
    password,
    database,
  });
  await client.connect();
  return client;
}

async function master<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectAs(info.postgres.user, info.postgres.password, 'postgres');
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const primaryDatabaseId = async (owner: Actor, tenantId: string) => {
  const list = await owner.call('GET', `/tenants/${tenantId}/databases`);
  return ((list.body as { items: { id: string; isPrimary: boolean }[] }).items.find((d) => d.isPrimary)?.id ??
    '') as string;
};

describe('tenant lifecycle on the local platform', () => {
  const client = new LocalClient(info);
  let owner: Actor;
  let tenantA: string;
  let tenantB: string;

  beforeAll(async () => {
    owner = await newActor(client, 'lifecycle-owner');
    [tenantA, tenantB] = await Promise.all([
      newTenant(owner, 'Lifecycle A').then((t) => t.tenantId),
      newTenant(owner, 'Lifecycle B').then((t) => t.tenantId),
    ]);
  });
  afterAll(() => client.close());

  it('a registered tenant reaches active, with the workflow and its steps visible', async () => {
    const tenant = await owner.call('GET', `/tenants/${tenantA}`);
    const provisioning = await owner.call('GET', `/tenants/${tenantA}/provisioning`);

    expect(tenant.body).toMatchObject({ status: 'active', settings: { defaultCurrency: 'USD' } });
    expect(provisioning.body).toMatchObject({
      status: 'active',
      databases: [{ isPrimary: true, status: 'active', clusterId: 'primary' }],
      workflow: { status: 'SUCCEEDED' },
    });
    const steps = (provisioning.body as { workflow: { steps: { name: string }[] } }).workflow.steps.map(
      (s) => s.name,
    );
    expect(steps).toEqual(
      expect.arrayContaining(['CreateRoleAndDatabase', 'ApplyBaselineSchema', 'ActivateDatabase']),
    );
  });

  it("a tenant's role opens its own database and is refused every other one", async () => {
    const credentials = await secretOf(tenantA);
    expect(credentials?.username).toBe(roleNameFor(tenantA));
    const own = databaseNameFor(await primaryDatabaseId(owner, tenantA));
    const other = databaseNameFor(await primaryDatabaseId(owner, tenantB));

    const session = await connectAs(credentials?.username ?? '', credentials?.password ?? '', own);
    const { rows } = await session.query('select current_user as "user", current_database() as db');
    await session.end();
    expect(rows[0]).toEqual({ user: roleNameFor(tenantA), db: own });

    for (const database of [other, 'postgres', CONTROL_DATABASE]) {
      const refused = await connectAs(
        credentials?.username ?? '',
        credentials?.password ?? '',
        database,
      ).then(
        async (c) => {
          await c.end();
          return null;
        },
        (error: { code?: string; message: string }) => error,
      );
      expect(refused, database).toMatchObject({ code: '42501' });
      expect(refused?.message).toMatch(/permission denied for database/);
    }
  });

  it('runs as a master that is not a superuser, as on Aurora: CREATEROLE, CREATEDB, rds_superuser', async () => {
    const tenantDatabase = databaseNameFor(await primaryDatabaseId(owner, tenantA));
    // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html
    const facts = await master(async (client) => {
      const role = await client.query<{ rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean }>(
        "select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = 'tenantry_admin'",
      );
      const member = await client.query<{ member: boolean }>(
        "select pg_has_role('tenantry_admin', 'rds_superuser', 'member') as member",
      );
      const owners = await client.query<{ datname: string; owner: string }>(
        'select datname, pg_get_userbyid(datdba) as owner from pg_database where datname = any($1) order by datname',
        [[CONTROL_DATABASE, tenantDatabase]],
      );
      const tables = await connectAs(info.postgres.user, info.postgres.password, CONTROL_DATABASE);
      try {
        const owned = await tables.query<{ owner: string }>(
          "select distinct tableowner as owner from pg_tables where schemaname = 'public'",
        );
        return { role: role.rows[0], member: member.rows[0]?.member, owners: owners.rows, owned: owned.rows };
      } finally {
        await tables.end();
      }
    });
    expect(facts.role).toEqual({ rolsuper: false, rolcreaterole: true, rolcreatedb: true });
    expect(facts.member).toBe(true);
    // The control database and its tables are the master's (migrations ran as it), a tenant's
    // database its own role's (the saga made it as the master).
    expect(facts.owners).toEqual(
      [
        { datname: CONTROL_DATABASE, owner: 'tenantry_admin' },
        { datname: tenantDatabase, owner: roleNameFor(tenantA) },
      ].sort((a, b) => a.datname.localeCompare(b.datname)),
    );
    expect(facts.owned).toEqual([{ owner: 'tenantry_admin' }]);
  });

  it('rejects every invalid setting with a 400 naming the field, and changes nothing', async () => {
    const before = (await owner.call('GET', `/tenants/${tenantA}`)).body;
    const invalid: Record<string, unknown> = {
      timezone: 'Mars/Olympus_Mons',
      language: 'not a language!',
      defaultCurrency: 'XXY',
      logoUrl: 'http://insecure.example.com/logo.png',
      companyEmail: 'not-an-email',
      name: '',
      address: { line1: '1 Main St' },
      theme: { mode: 'neon' },
      color: 'blue',
    };

    for (const [field, value] of Object.entries(invalid)) {
      const response = await owner.call('PATCH', `/tenants/${tenantA}`, { [field]: value });
      expect(response.status, field).toBe(400);
      const paths = (response.body as { error: { details: { path: string }[] } }).error.details.map(
        (d) => d.path,
      );
      expect(
        paths.some((p) => p === field || p.startsWith(`${field}.`)),
        `${field}: ${paths}`,
      ).toBe(true);
    }
    expect((await owner.call('PATCH', `/tenants/${tenantA}`, {})).status).toBe(400);
    expect((await owner.call('GET', `/tenants/${tenantA}`)).body).toEqual(before);
  });

  it('refuses a country code that is well-formed but not an assigned ISO 3166-1 country, and changes nothing', async () => {
    const before = (await owner.call('GET', `/tenants/${tenantA}`)).body;
    for (const country of ['ZZ', 'JJ']) {
      const response = await owner.call('PATCH', `/tenants/${tenantA}`, {
        address: { line1: '1 Main St', city: 'Springfield', postalCode: '12345', country },
      });
      expect(response.status, country).toBe(400);
      const paths = (response.body as { error: { details: { path: string }[] } }).error.details.map(
        (d) => d.path,
      );
      expect(paths, country).toEqual(['address.country']);
    }
    expect((await owner.call('GET', `/tenants/${tenantA}`)).body).toEqual(before);
  });

  it('accepts valid settings and keeps the ones not sent', async () => {
    const response = await owner.call('PATCH', `/tenants/${tenantA}`, {
      timezone: 'Europe/Paris',
      language: 'fr-fr',
      defaultCurrency: 'EUR',
      logoUrl: 'https://cdn.example.com/acme.png',
      companyEmail: 'billing@acme.example',
      address: { line1: '1 rue de Rivoli', city: 'Paris', postalCode: '75001', country: 'FR' },
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      name: 'Lifecycle A',
      settings: {
        timezone: 'Europe/Paris',
        language: 'fr-FR',
        defaultCurrency: 'EUR',
        address: { city: 'Paris' },
      },
    });
    const renamed = await owner.call('PATCH', `/tenants/${tenantA}`, { name: 'Lifecycle A2' });
    expect(renamed.body).toMatchObject({ name: 'Lifecycle A2', settings: { timezone: 'Europe/Paris' } });
  });

  it('creates another database owned by the tenant role, and drops it; the primary cannot be dropped', async () => {
    const created = await owner.call('POST', `/tenants/${tenantA}/databases`, { label: 'analytics' });
    expect(created.status).toBe(202);
    const databaseId = (created.body as { id: string }).id;
    const listed = await eventually(
      () => owner.call('GET', `/tenants/${tenantA}/databases`),
      (r) =>
        (r.body as { items: { id: string; status: string }[] }).items.some(
          (d) => d.id === databaseId && d.status === 'active',
        ),
    );
    expect((listed.body as { items: unknown[] }).items).toHaveLength(2);
    // Pages of one: each database once, in order, then no cursor.
    const first = await owner.call('GET', `/tenants/${tenantA}/databases?limit=1`);
    const { items: page1, nextCursor } = first.body as { items: { id: string }[]; nextCursor: string };
    const second = await owner.call('GET', `/tenants/${tenantA}/databases?limit=1&cursor=${nextCursor}`);
    const page2 = second.body as { items: { id: string }[]; nextCursor: string | null };
    expect(page2.items).toHaveLength(1);
    expect(page2.items[0]?.id).not.toBe(page1[0]?.id);
    expect(page2.nextCursor).toBeNull();
    expect((await owner.call('GET', `/tenants/${tenantA}/databases?cursor=bm9wZQ`)).status).toBe(400);
    const ownerRole = await master(async (c) =>
      c.query('select pg_get_userbyid(datdba) as owner from pg_database where datname = $1', [
        databaseNameFor(databaseId),
      ]),
    );
    expect(ownerRole.rows[0]?.owner).toBe(roleNameFor(tenantA));
    expect((await owner.call('POST', `/tenants/${tenantA}/databases`, { label: 'analytics' })).status).toBe(
      409,
    );
    expect((await owner.call('POST', `/tenants/${tenantA}/databases`, { label: 'Bad Label!' })).status).toBe(
      400,
    );

    const primary = await primaryDatabaseId(owner, tenantA);
    expect((await owner.call('DELETE', `/tenants/${tenantA}/databases/${primary}`)).status).toBe(409);
    expect((await owner.call('DELETE', `/tenants/${tenantA}/databases/${databaseId}`)).status).toBe(202);
    await eventually(
      () => owner.call('GET', `/tenants/${tenantA}/databases`),
      (r) => (r.body as { items: unknown[] }).items.length === 1,
    );
    const gone = await master((c) =>
      c.query('select 1 from pg_database where datname = $1', [databaseNameFor(databaseId)]),
    );
    expect(gone.rowCount).toBe(0);
    expect((await owner.call('DELETE', `/tenants/${tenantA}/databases/${databaseId}`)).status).toBe(404);
  });

  it('registers 20 tenants at once, and all reach active', async () => {
    const started = await Promise.all(
      Array.from({ length: 20 }, (_, i) => owner.call('POST', '/tenants', { name: `Concurrent ${i}` })),
    );
    expect(started.map((r) => r.status)).toEqual(Array(20).fill(202));
    const ids = started.map((r) => (r.body as { id: string }).id);
    expect(new Set(ids).size).toBe(20);

    const statuses = await eventually(
      () =>
        Promise.all(
          ids.map((id) =>
            owner.call('GET', `/tenants/${id}`).then((r) => {
              const tenant = r.body as { status: string; statusReason: string | null };
              // The reason travels with a failure, so that a red run says why.
              return tenant.status === 'active' ? 'active' : `${tenant.status}: ${tenant.statusReason}`;
            }),
          ),
        ),
      (all) => all.every((s) => !s.startsWith('provisioning')),
      60_000,
    );
    expect(statuses).toEqual(Array(20).fill('active'));
  }, 90_000);

  it('offboards: suspended at once, then database, role, secret and memberships go', async () => {
    const member = await newActor(client, 'offboard-member');
    const doomed = await newTenant(owner, 'Doomed');
    await addMember(owner, doomed.tenantId, member, 'admin');
    const databaseName = databaseNameFor(await primaryDatabaseId(owner, doomed.tenantId));

    expect((await member.call('DELETE', `/tenants/${doomed.tenantId}`)).status).toBe(403);
    const first = await owner.call('DELETE', `/tenants/${doomed.tenantId}`);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'deleting' });
    expect((await member.call('GET', `/tenants/${doomed.tenantId}`)).status).toBe(403);
    expect((await owner.call('DELETE', `/tenants/${doomed.tenantId}`)).status).toBe(202);

    await eventually(
      () => owner.call('GET', `/tenants/${doomed.tenantId}`),
      (r) => r.status === 404,
    );
    expect((await member.call('GET', `/tenants/${doomed.tenantId}`)).status).toBe(404);
    expect((await member.call('GET', '/me')).body).toMatchObject({ memberships: [] });
    const leftovers = await master(async (c) => ({
      databases: (await c.query('select 1 from pg_database where datname = $1', [databaseName])).rowCount,
      roles: (await c.query('select 1 from pg_roles where rolname = $1', [roleNameFor(doomed.tenantId)]))
        .rowCount,
    }));
    expect(leftovers).toEqual({ databases: 0, roles: 0 });
    expect(await secretOf(doomed.tenantId)).toBeNull();
  });
});

describe('keyset cursors a client makes up', () => {
  const client = new LocalClient(info);
  afterAll(() => client.close());

  it('a cursor dated in year 0 is a 400, not a 500', async () => {
    const owner = await newActor(client, 'cursor-year');
    const { tenantId } = await newTenant(owner, 'Cursor year');
    const cursor = Buffer.from(JSON.stringify(['0000-01-01T00:00:00Z', 'x'])).toString('base64url');

    const response = await owner.call('GET', `/tenants/${tenantId}/databases?cursor=${cursor}`);

    expect(response.status).toBe(400);
  });
});

describe('registration with an Idempotency-Key', () => {
  const client = new LocalClient(info);
  afterAll(() => client.close());

  it('the same key gives the same tenant, even sent twice at once; another key or none makes a new one', async () => {
    const owner = await newActor(client, 'idempotent');
    const register = (key?: string) =>
      client.call('POST', '/tenants', {
        token: owner.token,
        body: { name: 'Retried Co' },
        headers: key ? { 'idempotency-key': key } : {},
      });

    const [first, concurrent] = await Promise.all([register('order-42'), register('order-42')]);
    const again = await register('order-42');
    const other = await register('order-43');
    const none = await register();

    const id = (r: { body: unknown }) => (r.body as { id: string }).id;
    expect([first.status, concurrent.status, again.status]).toEqual([202, 202, 202]);
    expect(id(concurrent)).toBe(id(first));
    expect(id(again)).toBe(id(first));
    expect(id(other)).not.toBe(id(first));
    expect(id(none)).not.toBe(id(first));
    const memberships = (await owner.call('GET', '/me')).body as { memberships: { tenantName: string }[] };
    expect(memberships.memberships.filter((m) => m.tenantName === 'Retried Co')).toHaveLength(3);
    expect((await register('not a valid key!')).status).toBe(400);
  });
});
