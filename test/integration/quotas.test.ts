import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { DEFAULT_PLANS, LIMIT_NAMES } from '#shared/domain/plans';
import { type Actor, addMember, eventually, newActor, newTenant } from '../support/actors.ts';
import { TEST_PLANS } from '../support/platform-process.ts';
import { errorOf, expectStatus, unknownTenantId, withPg } from '../support/tenancy.ts';
import { tenantWithDatabase } from '../support/tenant-data.ts';

/**
 * Plans and counted quotas on the local platform (issue 15, part Q): the plan a tenant gets, plan
 * changes by platform admins only, each counted limit reached and refused with its exact body,
 * creations racing at `limit - 1`, lowered limits, and the thresholds announced once.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

interface Quotas {
  plan: string;
  limits: Record<string, number>;
  usage: Record<string, number>;
}

const role = () => ({ name: `q-${randomUUID().slice(0, 8)}`, permissions: { members: ['read'] } });
const table = () => ({ name: `q_${randomUUID().slice(0, 8)}`, columns: [{ name: 'v', type: 'text' }] });
const email = () => `q-${randomUUID().slice(0, 8)}@example.com`;

describe('plans and counted quotas', () => {
  let admin: Actor;
  let owner: Actor;
  let member: Actor;

  const setPlan = (actor: Actor, tenantId: string, body: unknown) =>
    actor.call('PUT', `/tenants/${tenantId}/plan`, body);
  /** Puts the tenant on `free` with these overrides (a platform admin's change). */
  const limit = async (tenantId: string, overrides: Record<string, number | null>) =>
    expectStatus(await setPlan(admin, tenantId, { plan: 'free', overrides }), 200).body as Quotas;
  const quotasOf = async (tenantId: string, actor: Actor = owner) =>
    expectStatus(await actor.call('GET', `/tenants/${tenantId}/quotas`), 200).body as Quotas;
  const refusal = (quota: string, limitValue: number, used: number) => ({
    status: 403,
    error: expect.objectContaining({ code: 'quota_exceeded', quota, limit: limitValue, used }),
  });
  const answer = (response: { status: number; body: unknown }) => ({
    status: response.status,
    error: (response.body as { error?: unknown }).error,
  });

  beforeAll(async () => {
    [admin, owner, member] = await Promise.all([
      newActor(client, 'quota-admin', { groups: ['platform-admin'] }),
      newActor(client, 'quota-owner'),
      newActor(client, 'quota-member'),
    ]);
  });

  it('gives a new tenant the configured default plan, shown by GET /tenants/{id} and GET …/quotas', async () => {
    const { tenantId } = await tenantWithDatabase(owner);
    const tenant = expectStatus(await owner.call('GET', `/tenants/${tenantId}`), 200).body as {
      plan: string;
    };
    expect(tenant.plan).toBe(TEST_PLANS.defaultPlan);
    const quotas = await quotasOf(tenantId);
    expect(quotas).toEqual({
      plan: TEST_PLANS.defaultPlan,
      limits: TEST_PLANS.plans.generous,
      usage: {
        apiCallsPerMonth: expect.any(Number),
        databases: 1,
        tablesPerDatabase: 0,
        members: 1,
        customRoles: 0,
        storageBytes: expect.any(Number),
      },
    });
    // Rate limits have no usage; every limit is a non-negative integer.
    expect(Object.keys(quotas.limits).sort()).toEqual([...LIMIT_NAMES].sort());
    // This month's API calls come from the usage rollups (the consumer writes them shortly after).
    const later = await eventually(
      () => quotasOf(tenantId),
      (q) => (q.usage.apiCallsPerMonth ?? 0) >= 2,
    );
    expect(later.usage.apiCallsPerMonth).toBeGreaterThanOrEqual(2);
  });

  it('lets platform admins only change a plan (an owner cannot change their own), with 404 and 400s that name the problem', async () => {
    const { tenantId } = await newTenant(owner);
    await addMember(owner, tenantId, member, 'admin');
    const body = { plan: 'premium' };
    for (const actor of [owner, member]) {
      expect(answer(await setPlan(actor, tenantId, body))).toEqual({
        status: 403,
        error: expect.objectContaining({ code: 'forbidden' }),
      });
    }
    expect((await quotasOf(tenantId)).plan).toBe(TEST_PLANS.defaultPlan);
    const unknown = await setPlan(admin, unknownTenantId(), body);
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown)?.code).toBe('not_found');
    const unknownPlan = await setPlan(admin, tenantId, { plan: 'platinum' });
    expect(unknownPlan.status).toBe(400);
    expect(JSON.stringify(errorOf(unknownPlan))).toContain('platinum');
    expect(errorOf(unknownPlan)?.details).toEqual([
      expect.objectContaining({ path: 'plan', code: 'unknown_plan' }),
    ]);
    const unknownLimit = await setPlan(admin, tenantId, { plan: 'free', overrides: { seats: 3 } });
    expect(unknownLimit.status).toBe(400);
    expect(JSON.stringify(errorOf(unknownLimit))).toContain('seats');
    for (const bad of [
      { plan: 'free', overrides: { databases: -1 } },
      { plan: 'free', overrides: { databases: 1.5 } },
      { plan: 'free', overrides: { databases: '3' } },
      { plan: 'Free' },
      { overrides: { databases: 3 } },
      { plan: 'free', extra: true },
    ]) {
      const response = await setPlan(admin, tenantId, bad);
      expect(response.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await quotasOf(tenantId)).plan).toBe(TEST_PLANS.defaultPlan);
  });

  it('merges overrides into the plan (null drops one), answers the quotas and records the change in the audit log', async () => {
    const { tenantId } = await newTenant(owner);
    const changed = await limit(tenantId, { databases: 5, members: 7 });
    expect(changed.plan).toBe('free');
    expect(changed.limits).toEqual({ ...DEFAULT_PLANS.free, databases: 5, members: 7 });
    expect(changed.usage).toMatchObject({ databases: 1, members: 1, customRoles: 0 });
    const dropped = await limit(tenantId, { members: null });
    expect(dropped.limits).toEqual({ ...DEFAULT_PLANS.free, databases: 5 });
    const standard = expectStatus(await setPlan(admin, tenantId, { plan: 'standard' }), 200).body as Quotas;
    // The overrides stay across a plan change.
    expect(standard.limits).toEqual({ ...DEFAULT_PLANS.standard, databases: 5 });
    expect(await quotasOf(tenantId)).toEqual(standard);
    const audited = await eventually(
      () => owner.call('GET', `/tenants/${tenantId}/audit?action=plan.setTenant`),
      (r) => ((r.body as { items?: unknown[] }).items ?? []).length >= 3,
    );
    const items = (audited.body as { items: { userId: string; details: { body?: unknown } }[] }).items;
    expect(items).toHaveLength(3);
    expect(items.every((item) => item.userId === admin.userId)).toBe(true);
    expect(items.map((item) => item.details.body)).toContainEqual({ plan: 'standard' });
  });

  it('refuses the database past the limit with 403 quota_exceeded and creates nothing', async () => {
    const { tenantId } = await newTenant(owner);
    await limit(tenantId, { databases: 2 });
    expectStatus(await owner.call('POST', `/tenants/${tenantId}/databases`, { label: 'second' }), 202);
    const refused = await owner.call('POST', `/tenants/${tenantId}/databases`, { label: 'third' });
    expect(answer(refused)).toEqual(refusal('databases', 2, 2));
    const listed = expectStatus(await owner.call('GET', `/tenants/${tenantId}/databases`), 200).body as {
      items: { label: string }[];
    };
    expect(listed.items.map((db) => db.label).sort()).toEqual(['main', 'second']);
  });

  it('counts pending invitations as members, refuses one more, and lets a pending invitation be refreshed', async () => {
    const { tenantId } = await newTenant(owner);
    await limit(tenantId, { members: 2 });
    const invited = email();
    expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/members`, { email: invited, role: 'viewer' }),
      201,
    );
    const refused = await owner.call('POST', `/tenants/${tenantId}/members`, {
      email: email(),
      role: 'viewer',
    });
    expect(answer(refused)).toEqual(refusal('members', 2, 2));
    // Refreshing the pending invitation adds no one.
    expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/members`, { email: invited, role: 'member' }),
      201,
    );
    const invitations = expectStatus(await owner.call('GET', `/tenants/${tenantId}/invitations`), 200)
      .body as {
      items: { email: string; role: string }[];
    };
    expect(invitations.items).toEqual([expect.objectContaining({ email: invited, role: 'member' })]);
    expect((await quotasOf(tenantId)).usage.members).toBe(2);
  });

  it('refuses the custom role and the table past their limits; tables are counted per database', async () => {
    const { tenantId, base } = await tenantWithDatabase(owner);
    await limit(tenantId, { customRoles: 1, tablesPerDatabase: 1, databases: 3 });
    expectStatus(await owner.call('POST', `/tenants/${tenantId}/roles`, role()), 201);
    expect(answer(await owner.call('POST', `/tenants/${tenantId}/roles`, role()))).toEqual(
      refusal('customRoles', 1, 1),
    );
    expectStatus(await owner.call('POST', `${base}/tables`, table()), 201);
    const refusedTable = table();
    expect(answer(await owner.call('POST', `${base}/tables`, refusedTable))).toEqual(
      refusal('tablesPerDatabase', 1, 1),
    );
    expectStatus(await owner.call('GET', `${base}/tables/${refusedTable.name}`), 404);
    // Another database has its own count.
    const second = expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/databases`, { label: 'other' }),
      202,
    ).body as { id: string };
    await eventually(
      () => owner.call('GET', `/tenants/${tenantId}/databases`),
      (r) =>
        (r.body as { items: { id: string; status: string }[] }).items.some(
          (db) => db.id === second.id && db.status === 'active',
        ),
      30_000,
    );
    expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/databases/${second.id}/tables`, table()),
      201,
    );
    expect((await quotasOf(tenantId)).usage).toMatchObject({
      tablesPerDatabase: 1,
      customRoles: 1,
      databases: 2,
    });
  });

  it('lets only one of two concurrent creations at limit - 1 through, for every counted resource', async () => {
    const { tenantId, base } = await tenantWithDatabase(owner);
    await limit(tenantId, { customRoles: 1, tablesPerDatabase: 1, members: 2, databases: 2 });
    const races: [string, string, () => unknown][] = [
      ['customRoles', `/tenants/${tenantId}/roles`, role],
      ['tablesPerDatabase', `${base}/tables`, table],
      ['members', `/tenants/${tenantId}/members`, () => ({ email: email(), role: 'viewer' })],
      ['databases', `/tenants/${tenantId}/databases`, () => ({ label: `race${randomUUID().slice(0, 6)}` })],
    ];
    for (const [quota, path, body] of races) {
      const answers = await Promise.all([owner.call('POST', path, body()), owner.call('POST', path, body())]);
      const statuses = answers.map((response) => response.status).sort();
      expect(statuses, `${quota}: ${JSON.stringify(answers.map((a) => a.body))}`).toEqual([
        quota === 'databases' ? 202 : 201,
        403,
      ]);
      const refused = answers.find((response) => response.status === 403);
      expect(errorOf(refused as never)).toMatchObject({ code: 'quota_exceeded', quota });
    }
    expect((await quotasOf(tenantId)).usage).toMatchObject({
      customRoles: 1,
      tablesPerDatabase: 1,
      members: 2,
      databases: 2,
    });
  });

  it('blocks only new creations when a limit is lowered below the usage; nothing existing is removed', async () => {
    const { tenantId } = await newTenant(owner);
    for (let i = 0; i < 3; i++)
      expectStatus(await owner.call('POST', `/tenants/${tenantId}/roles`, role()), 201);
    const lowered = await limit(tenantId, { customRoles: 1 });
    expect(lowered.usage.customRoles).toBe(3);
    expect(lowered.limits.customRoles).toBe(1);
    expect(answer(await owner.call('POST', `/tenants/${tenantId}/roles`, role()))).toEqual(
      refusal('customRoles', 1, 3),
    );
    const roles = expectStatus(await owner.call('GET', `/tenants/${tenantId}/roles`), 200).body as {
      items: { id: string }[];
    };
    expect(roles.items).toHaveLength(3);
    // Existing roles still change and go; a removal makes no room while usage stays at the limit.
    const [first] = roles.items;
    expectStatus(await owner.call('PUT', `/tenants/${tenantId}/roles/${first?.id}`, role()), 200);
    expectStatus(await owner.call('DELETE', `/tenants/${tenantId}/roles/${first?.id}`), 204);
    expect(answer(await owner.call('POST', `/tenants/${tenantId}/roles`, role()))).toEqual(
      refusal('customRoles', 1, 2),
    );
    // Raised again, creation works at once.
    await limit(tenantId, { customRoles: 3 });
    expectStatus(await owner.call('POST', `/tenants/${tenantId}/roles`, role()), 201);
  });

  it('announces 80 % and 100 % of a limit once per period, in the audit log', async () => {
    const { tenantId } = await newTenant(owner);
    await limit(tenantId, { customRoles: 5 });
    type Audit = { items: { userId: string; details: Record<string, unknown>; resource: string }[] };
    const thresholds = async () =>
      (
        expectStatus(
          await owner.call('GET', `/tenants/${tenantId}/audit?action=quotas.thresholdReached`),
          200,
        ).body as Audit
      ).items;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (
          expectStatus(await owner.call('POST', `/tenants/${tenantId}/roles`, role()), 201).body as {
            id: string;
          }
        ).id,
      );
    // 3 of 5: below 80 %.
    expectStatus(await owner.call('POST', `/tenants/${tenantId}/roles`, role()), 201);
    // 4 of 5 reaches 80 %.
    const at80 = await eventually(thresholds, (items) => items.length >= 1);
    expect(at80).toEqual([
      expect.objectContaining({
        userId: owner.userId,
        resource: `/tenants/${tenantId}/quotas`,
        details: { quota: 'customRoles', threshold: 80, limit: 5, used: 4, period: 'limit=5' },
      }),
    ]);
    // Down and up again within the same period: not announced twice.
    expectStatus(await owner.call('DELETE', `/tenants/${tenantId}/roles/${ids[0]}`), 204);
    expectStatus(await owner.call('POST', `/tenants/${tenantId}/roles`, role()), 201);
    expectStatus(await owner.call('POST', `/tenants/${tenantId}/roles`, role()), 201);
    const both = await eventually(thresholds, (items) => items.length >= 2);
    expect(both.map((item) => item.details.threshold).sort()).toEqual([100, 80]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await thresholds()).toHaveLength(2);
    // The claims that decided it, one per threshold and period.
    const claims = await withPg(
      info,
      'control',
      async (pg) =>
        (
          await pg.query(
            'select quota, threshold, period from quota_thresholds where tenant_id = $1 order by threshold',
            [tenantId],
          )
        ).rows,
    );
    expect(claims).toEqual([
      { quota: 'customRoles', threshold: 80, period: 'limit=5' },
      { quota: 'customRoles', threshold: 100, period: 'limit=5' },
    ]);
  });

  it('announces the thresholds of databases, tables and members too, each with its own quota', async () => {
    const { tenantId, base } = await tenantWithDatabase(owner);
    await limit(tenantId, { databases: 2, tablesPerDatabase: 1, members: 2 });
    // One creation each reaches 80 % and 100 % at once (2 of 2, 1 of 1).
    expectStatus(await owner.call('POST', `/tenants/${tenantId}/databases`, { label: 'second' }), 202);
    expectStatus(await owner.call('POST', `${base}/tables`, table()), 201);
    expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/members`, { email: email(), role: 'viewer' }),
      201,
    );
    type Audit = { items: { details: { quota: string; threshold: number; used: number; limit: number } }[] };
    const found = await eventually(
      () => owner.call('GET', `/tenants/${tenantId}/audit?action=quotas.thresholdReached`),
      (r) => ((r.body as Audit).items ?? []).length >= 6,
    );
    const reached = (found.body as Audit).items
      .map(({ details }) => `${details.quota} ${details.threshold} ${details.used}/${details.limit}`)
      .sort();
    expect(reached).toEqual([
      'databases 100 2/2',
      'databases 80 2/2',
      'members 100 2/2',
      'members 80 2/2',
      'tablesPerDatabase 100 1/1',
      'tablesPerDatabase 80 1/1',
    ]);
  });

  it("carries the tenant's plan in the finance export of the month", async () => {
    const finance = await newActor(client, 'quota-finance', { groups: ['finance'] });
    const { tenantId } = await newTenant(owner);
    expectStatus(await setPlan(admin, tenantId, { plan: 'premium' }), 200);
    const month = new Date().toISOString().slice(0, 7);
    type Export = { lines: { tenantId: string; plan: string; resourceType: string }[] };
    const exported = await eventually(
      () => finance.call('GET', `/usage/exports?month=${month}&format=json&tenantId=${tenantId}`),
      (r) => ((r.body as Export).lines ?? []).length > 0,
    );
    const lines = (exported.body as Export).lines;
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => line.tenantId === tenantId && line.plan === 'premium')).toBe(true);
    const csv = expectStatus(
      await finance.call('GET', `/usage/exports?month=${month}&tenantId=${tenantId}`),
      200,
    );
    expect(String(csv.body).split('\r\n')[0]).toBe(
      'tenant_id,tenant_name,month,resource_type,quantity,unit,plan,parent_id,root_id',
    );
  });
});
