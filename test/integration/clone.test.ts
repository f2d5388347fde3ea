import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { type Actor, addMember, eventually, newActor, newTenant } from '../support/actors.ts';
import { errorOf, expectStatus, setTenantStatus, unknownTenantId, withPg } from '../support/tenancy.ts';
import { COMPLETE_SETTINGS, tenantWithDatabase } from '../support/tenant-data.ts';

/**
 * Cloning a tenant on the local platform (issue 17, docs/backups.md "Clone"): a new tenant from a
 * fresh backup of the source — its settings, custom roles, modules and every database, with rows
 * (`data`) or their structure alone — owned by the caller, never its members; the source untouched.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

type Row = Record<string, unknown>;
interface TenantView {
  id: string;
  name: string;
  status: string;
  statusReason: string | null;
  plan: string;
  parentId: string | null;
  settings: Record<string, unknown>;
  enabledModules: string[];
}
interface Database {
  id: string;
  label: string;
  isPrimary: boolean;
  status: string;
}

const COLUMNS = [
  { name: 'title', type: 'text', nullable: false },
  { name: 'qty', type: 'integer' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'at', type: 'timestamptz' },
  { name: 'doc', type: 'jsonb' },
  { name: 'flag', type: 'boolean' },
];

const ROWS = [
  {
    title: 'first',
    qty: 1,
    amount: '10.50',
    at: '2024-02-29T12:34:56.789Z',
    doc: { a: [1, 'x'] },
    flag: true,
  },
  { title: "it's \\ quoted", qty: null, amount: '-0.01', at: null, doc: null, flag: false },
  {
    title: 'third',
    qty: 2147483647,
    amount: '9999999999.99',
    at: '1999-12-31T23:59:59Z',
    doc: [],
    flag: null,
  },
];

async function settled(actor: Actor, tenantId: string): Promise<TenantView> {
  const response = await eventually(
    () => actor.call('GET', `/tenants/${tenantId}`),
    (r) => (r.body as TenantView).status !== 'provisioning',
    60_000,
  );
  return expectStatus(response, 200).body as TenantView;
}

const databasesOf = async (actor: Actor, tenantId: string) =>
  (expectStatus(await actor.call('GET', `/tenants/${tenantId}/databases`), 200).body as { items: Database[] })
    .items;

async function rowsOf(actor: Actor, tenantId: string, databaseId: string, table: string): Promise<Row[]> {
  const page = expectStatus(
    await actor.call('GET', `/tenants/${tenantId}/databases/${databaseId}/tables/${table}/rows?limit=100`),
    200,
  ).body as { items: Row[] };
  return [...page.items].sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

const rolesOf = async (actor: Actor, tenantId: string) =>
  (
    expectStatus(await actor.call('GET', `/tenants/${tenantId}/roles`), 200).body as {
      items: { name: string; permissions: unknown }[];
    }
  ).items
    .map(({ name, permissions }) => ({ name, permissions }))
    .sort((a, b) => a.name.localeCompare(b.name));

const tenantCount = () =>
  withPg(info, 'control', async (pg) =>
    Number((await pg.query('select count(*)::int as n from tenants')).rows[0].n),
  );

describe('cloning a tenant', () => {
  let owner: Actor;
  let member: Actor;
  let admin: Actor;
  let outsider: Actor;
  let source: string;
  let primary: string;
  let extra: string;

  beforeAll(async () => {
    [owner, member, admin, outsider] = await Promise.all([
      newActor(client, 'clone-owner'),
      newActor(client, 'clone-member'),
      newActor(client, 'clone-admin'),
      newActor(client, 'clone-outsider'),
    ]);
    ({ tenantId: source, databaseId: primary } = await tenantWithDatabase(owner, COMPLETE_SETTINGS));
    await Promise.all([addMember(owner, source, member, 'member'), addMember(owner, source, admin, 'admin')]);
    const base = `/tenants/${source}/databases/${primary}`;
    expectStatus(await owner.call('POST', `${base}/tables`, { name: 'things', columns: COLUMNS }), 201);
    for (const row of ROWS) expectStatus(await owner.call('POST', `${base}/tables/things/rows`, row), 201);
    expectStatus(
      await owner.call('POST', `/tenants/${source}/roles`, {
        name: 'auditor',
        permissions: { audit: ['read'], backups: ['read'] },
      }),
      201,
    );
    for (const moduleId of ['billing', 'crm']) {
      expectStatus(
        await owner.call('POST', `/tenants/${source}/modules`, { moduleId, databaseId: primary }),
        201,
      );
    }
    const created = expectStatus(
      await owner.call('POST', `/tenants/${source}/databases`, { label: 'reports' }),
      202,
    );
    extra = (created.body as { id: string }).id;
    await eventually(
      () => databasesOf(owner, source),
      (dbs) => dbs.every((db) => db.status === 'active'),
      60_000,
    );
    expectStatus(
      await owner.call('POST', `/tenants/${source}/databases/${extra}/tables`, {
        name: 'reports',
        columns: [{ name: 'body', type: 'text' }],
      }),
      201,
    );
    expectStatus(
      await owner.call('POST', `/tenants/${source}/databases/${extra}/tables/reports/rows`, { body: 'q1' }),
      201,
    );
  }, 120_000);

  it('with everything: settings, roles, modules and every database with identical rows; members not copied', async () => {
    const name = `Clone ${randomUUID().slice(0, 6)}`;
    const response = expectStatus(await admin.call('POST', `/tenants/${source}/clone`, { name }), 202);
    const accepted = response.body as TenantView;
    expect(accepted).toMatchObject({ name, status: 'provisioning', parentId: null });
    const clone = await settled(admin, accepted.id);
    expect(clone.status, clone.statusReason ?? '').toBe('active');
    // The deployment's default plan, not the source's: plans are a platform admin's to give.
    expect(clone.plan).toBe((await settled(owner, source)).plan);
    expect(clone.settings).toEqual((await settled(owner, source)).settings);
    expect(clone.enabledModules).toEqual(['billing', 'crm']);
    expect(await rolesOf(admin, clone.id)).toEqual(await rolesOf(owner, source));

    const databases = await databasesOf(admin, clone.id);
    expect(databases.map((db) => [db.label, db.isPrimary, db.status]).sort()).toEqual([
      ['main', true, 'active'],
      ['reports', false, 'active'],
    ]);
    const clonePrimary = databases.find((db) => db.isPrimary)?.id as string;
    const cloneReports = databases.find((db) => !db.isPrimary)?.id as string;
    expect(clonePrimary).not.toBe(primary);
    // Every column, ids and timestamps included.
    expect(await rowsOf(admin, clone.id, clonePrimary, 'things')).toEqual(
      await rowsOf(owner, source, primary, 'things'),
    );
    expect(await rowsOf(admin, clone.id, cloneReports, 'reports')).toEqual(
      await rowsOf(owner, source, extra, 'reports'),
    );
    // The module's tables came along and the module is usable there.
    const tables = expectStatus(
      await admin.call('GET', `/tenants/${clone.id}/databases/${clonePrimary}/tables`),
      200,
    ).body as { items: { name: string }[] };
    expect(tables.items.map((t) => t.name)).toEqual(expect.arrayContaining(['things']));

    // Only the caller is a member: the source's owner and members are not.
    const members = expectStatus(await admin.call('GET', `/tenants/${clone.id}/members`), 200).body as {
      items: { userId: string; role: string }[];
    };
    expect(members.items.map((m) => [m.userId, m.role])).toEqual([[admin.userId, 'owner']]);
    expect((await owner.call('GET', `/tenants/${clone.id}`)).status).toBe(404);

    // The fresh backup it came from is the source's, marked as a clone's.
    const backups = expectStatus(await owner.call('GET', `/tenants/${source}/backups`), 200).body as {
      items: { trigger: string; status: string }[];
    };
    expect(backups.items.some((b) => b.trigger === 'clone' && b.status === 'completed')).toBe(true);
  }, 120_000);

  it('without data: the tables come empty; without roles and settings: neither', async () => {
    const response = expectStatus(
      await owner.call('POST', `/tenants/${source}/clone`, { name: 'Template', include: ['modules'] }),
      202,
    );
    const clone = await settled(owner, (response.body as TenantView).id);
    expect(clone.status, clone.statusReason ?? '').toBe('active');
    expect(await rolesOf(owner, clone.id)).toEqual([]);
    expect(clone.settings).not.toEqual((await settled(owner, source)).settings);
    expect(clone.enabledModules).toEqual(['billing', 'crm']);
    const databases = await databasesOf(owner, clone.id);
    expect(databases).toHaveLength(2);
    const clonePrimary = databases.find((db) => db.isPrimary)?.id as string;
    expect(await rowsOf(owner, clone.id, clonePrimary, 'things')).toEqual([]);
    // The structure is there: rows of the source's shape go in.
    expectStatus(
      await owner.call('POST', `/tenants/${clone.id}/databases/${clonePrimary}/tables/things/rows`, ROWS[0]),
      201,
    );
  }, 120_000);

  it('without modules: no module tables and no module enabled', async () => {
    const response = expectStatus(
      await owner.call('POST', `/tenants/${source}/clone`, { name: 'No modules', include: ['data'] }),
      202,
    );
    const clone = await settled(owner, (response.body as TenantView).id);
    expect(clone.status, clone.statusReason ?? '').toBe('active');
    expect(clone.enabledModules).toEqual([]);
    const clonePrimary = (await databasesOf(owner, clone.id)).find((db) => db.isPrimary)?.id as string;
    expect((await rowsOf(owner, clone.id, clonePrimary, 'things')).length).toBe(ROWS.length);
    const sourceTables = expectStatus(
      await owner.call('GET', `/tenants/${source}/databases/${primary}/tables`),
      200,
    ).body as { items: { name: string }[] };
    const cloneTables = expectStatus(
      await owner.call('GET', `/tenants/${clone.id}/databases/${clonePrimary}/tables`),
      200,
    ).body as { items: { name: string }[] };
    expect(cloneTables.items.length).toBeLessThan(sourceTables.items.length);
    expect(cloneTables.items.map((t) => t.name)).toEqual(['things']);
  }, 120_000);

  it('as a child: needs tenants:createChild in the parent, and starts on its plan', async () => {
    const { tenantId: parent } = await newTenant(owner);
    const refused = await admin.call('POST', `/tenants/${source}/clone`, { name: 'Child', parentId: parent });
    expect(refused.status).toBe(404);
    const response = expectStatus(
      await owner.call('POST', `/tenants/${source}/clone`, { name: 'Child', parentId: parent, include: [] }),
      202,
    );
    const clone = await settled(owner, (response.body as TenantView).id);
    expect(clone).toMatchObject({ status: 'active', parentId: parent });
  }, 120_000);

  it('members without backups:read, viewers and outsiders cannot clone; nothing is made', async () => {
    const before = await tenantCount();
    expect((await member.call('POST', `/tenants/${source}/clone`, { name: 'Nope' })).status).toBe(403);
    expect((await outsider.call('POST', `/tenants/${source}/clone`, { name: 'Nope' })).status).toBe(404);
    expect((await owner.call('POST', `/tenants/${unknownTenantId()}/clone`, { name: 'Nope' })).status).toBe(
      404,
    );
    expect(await tenantCount()).toBe(before);
  });

  it('refuses bad input with 400 and makes nothing', async () => {
    const before = await tenantCount();
    for (const body of [
      {},
      { name: '' },
      { name: 'x', include: ['everything'] },
      { name: 'x', include: ['data', 'data'] },
      { name: 'x', include: 'data' },
      { name: 'x', parentId: 'not-a-tenant' },
      { name: 'x', members: true },
    ]) {
      const response = await owner.call('POST', `/tenants/${source}/clone`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect(await tenantCount()).toBe(before);
  });

  it('a suspended source refuses its members (403 tenant_suspended); nothing is made', async () => {
    const { tenantId: paused } = await newTenant(owner);
    await setTenantStatus(info, paused, 'suspended');
    const before = await tenantCount();
    const response = await owner.call('POST', `/tenants/${paused}/clone`, { name: 'Paused' });
    expect(response.status).toBe(403);
    expect(errorOf(response)?.code).toBe('tenant_suspended');
    expect(await tenantCount()).toBe(before);
  });
});
