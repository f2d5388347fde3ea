import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { CONTROL_DATABASE } from '#infra/local/platform-info';
import { hierarchyOf } from '#shared/composition/hierarchy-deps';
import { offboardingDeps } from '#shared/composition/saga-deps';
import { Conflict } from '#shared/errors';
import { SecretNotFound } from '#shared/ports/secrets';
import { databaseNameFor, roleNameFor, secretNameFor } from '#shared/provisioning/names';
import { offboardTenant } from '#shared/provisioning/offboarding';
import { TenantHasChildren } from '#shared/provisioning/saga';
import { offboard, offboardingExecutionName, provisioningStatus } from '#shared/tenancy/lifecycle';
import { provisioningExecutionName, registerTenant } from '#shared/tenancy/register-tenant';
import { attemptName } from '#shared/workflows/attempts';
import { type Actor, addMember, eventually, newActor, newTenant } from '../support/actors.ts';
import { type SagaHarness, startSagaHarness } from '../support/saga-harness.ts';
import { tenantSecretOf } from '../support/tenant-secrets.ts';

/**
 * Offboarding a tenant that has children (issue 16): refused (409 naming them) unless
 * `cascade=true`, which offboards the whole subtree, leaves first, in one workflow — and leaves
 * nothing of any of them behind.
 */

const info = inject('platform');

class InjectedFailure extends Error {
  override readonly name = 'InjectedFailure';
}

describe('offboarding a subtree in the saga (same definition, steps and adapters as the platform)', () => {
  let saga: SagaHarness;

  beforeAll(async () => {
    saga = await startSagaHarness(info);
  });
  afterAll(async () => {
    await saga?.close();
  });

  const owner = { userId: randomUUID(), email: `tree-${randomUUID().slice(0, 8)}@example.com` };

  async function register(name: string, parentId?: string) {
    const tenant = await registerTenant(saga.services, owner, { name, ...(parentId ? { parentId } : {}) });
    const execution = await saga.workflows.waitFor(provisioningExecutionName(tenant.id));
    expect(execution?.status).toBe('SUCCEEDED');
    const [database] = await saga.services.databases.ofTenant(tenant.id);
    return { id: tenant.id, databaseName: database?.databaseName ?? '' };
  }

  /** A root with two children, the first with a child of its own. */
  async function tree(label: string) {
    const root = await register(`${label} root`);
    const [left, right] = await Promise.all([
      register(`${label} left`, root.id),
      register(`${label} right`, root.id),
    ]);
    const leaf = await register(`${label} leaf`, left.id);
    return { root, left, right, leaf, all: [root, left, right, leaf] };
  }

  const statuses = async (ids: readonly string[]) =>
    Promise.all(ids.map(async (id) => (await saga.services.tenants.get(id))?.status));

  async function leftovers(tenant: { id: string; databaseName: string }) {
    const admin = await saga.admin();
    try {
      const databases = await admin.query('select 1 from pg_database where datname = $1', [
        tenant.databaseName,
      ]);
      const roles = await admin.query('select 1 from pg_roles where rolname = $1', [roleNameFor(tenant.id)]);
      const secret = await saga.secrets
        .getSecretValue(secretNameFor(saga.stage, tenant.id))
        .then(() => true)
        .catch((error: unknown) => (error instanceof SecretNotFound ? false : Promise.reject(error)));
      return { databases: databases.rowCount, roles: roles.rowCount, secret };
    } finally {
      await admin.end();
    }
  }

  const offboardedOrder = () =>
    saga.published
      .filter((e) => e.detailType === 'Tenant Offboarded')
      .map((e) => (e.detail as { tenantId: string }).tenantId);

  it('refuses a tenant with children without cascade, naming them, and changes nothing', async () => {
    saga.faults = [];
    const { root, left, right, all } = await tree('Refused');

    const refusal = await offboard(saga.services, root.id).catch((error: unknown) => error);

    expect(refusal).toBeInstanceOf(Conflict);
    expect((refusal as Conflict).details).toMatchObject({ reason: 'has_children', childCount: 2 });
    expect(new Set((refusal as Conflict).details?.children as string[])).toEqual(
      new Set([left.id, right.id]),
    );
    expect(await statuses(all.map((t) => t.id))).toEqual(['active', 'active', 'active', 'active']);
    expect(await saga.workflows.describe(offboardingExecutionName(root.id))).toBeNull();
  });

  it('with cascade, one execution offboards the subtree leaves first and leaves nothing behind', async () => {
    saga.faults = [];
    const { root, left, right, leaf, all } = await tree('Cascade');
    const published = saga.published.length;

    const answer = await offboard(saga.services, root.id, { cascade: true });
    // Every tenant of the subtree is `deleting` as soon as the call returns.
    const marked = await statuses(all.map((t) => t.id));
    const execution = await saga.workflows.waitFor(offboardingExecutionName(root.id));

    expect(answer).toEqual({ id: root.id, status: 'deleting' });
    expect(marked.every((s) => s === 'deleting' || s === 'deleted')).toBe(true);
    expect(execution?.status).toBe('SUCCEEDED');
    expect(execution?.steps.filter((s) => s.name === 'OffboardTenant')).toHaveLength(4);
    expect(execution?.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['PlanTenantOffboarding', 'OffboardLevels', 'OffboardLevelTenants']),
    );
    // Leaves first: the grandchild, then the two children (side by side), then the root.
    const order = saga.published
      .slice(published)
      .filter((e) => e.detailType === 'Tenant Offboarded')
      .map((e) => (e.detail as { tenantId: string }).tenantId);
    expect(order).toHaveLength(4);
    expect(order[0]).toBe(leaf.id);
    expect(new Set(order.slice(1, 3))).toEqual(new Set([left.id, right.id]));
    expect(order[3]).toBe(root.id);
    expect(await statuses(all.map((t) => t.id))).toEqual(['deleted', 'deleted', 'deleted', 'deleted']);
    for (const tenant of all) {
      expect(await leftovers(tenant), tenant.id).toEqual({ databases: 0, roles: 0, secret: false });
    }
    for (const tenant of all) {
      const rows = await saga.services.control.query('select 1 from memberships where tenant_id = :id', {
        id: tenant.id,
      });
      expect(rows, tenant.id).toEqual([]);
    }
  });

  it('a failure inside the tree stops before the parents; asking again plans what is left and finishes', async () => {
    saga.faults = [];
    const { root, leaf, all } = await tree('Retried');
    saga.faults = [
      { step: 'OffboardTenant', when: 'before', error: new InjectedFailure('cluster away'), times: 1 },
    ];

    await offboard(saga.services, root.id, { cascade: true });
    const first = await saga.workflows.waitFor(offboardingExecutionName(root.id));
    const afterFailure = await statuses(all.map((t) => t.id));
    const status = await provisioningStatus(saga.services, root.id);

    expect(first?.status).toBe('FAILED');
    // Only the grandchild's level ran (and failed): nobody above it was touched.
    expect(afterFailure).toEqual(['deleting', 'deleting', 'deleting', 'deleting']);
    expect(await leftovers(all[0] as (typeof all)[0])).toEqual({ databases: 1, roles: 1, secret: true });
    // The status route shows the offboarding and its failed step.
    expect(status.offboarding).toMatchObject({ attempt: 1, status: 'FAILED' });
    expect(status.offboarding?.steps).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'OffboardTenant', status: 'FAILED' })]),
    );

    // Act: asking again (without cascade it is refused: the children are still there).
    await expect(offboard(saga.services, root.id)).rejects.toBeInstanceOf(Conflict);
    await offboard(saga.services, root.id, { cascade: true });
    const second = await saga.workflows.waitFor(attemptName(offboardingExecutionName(root.id), 2));

    expect(second?.status).toBe('SUCCEEDED');
    expect(await statuses(all.map((t) => t.id))).toEqual(['deleted', 'deleted', 'deleted', 'deleted']);
    for (const tenant of all) {
      expect(await leftovers(tenant), tenant.id).toEqual({ databases: 0, roles: 0, secret: false });
    }
    expect(offboardedOrder().indexOf(leaf.id)).toBeLessThan(offboardedOrder().indexOf(root.id));
  });

  it('with cascade, refuses (409, nothing changed) while a tenant or a database of the subtree is provisioning', async () => {
    saga.faults = [];
    const { root, left, leaf, all } = await tree('Busy');
    const [leafDatabase] = await saga.services.databases.ofTenant(leaf.id);
    // As if the grandchild's other database, then the child itself, were still being provisioned.
    await saga.services.databases.transition(leafDatabase?.id ?? '', ['active'], 'provisioning');

    const databaseBusy = await offboard(saga.services, root.id, { cascade: true }).catch((e: unknown) => e);
    await saga.services.databases.transition(leafDatabase?.id ?? '', ['provisioning'], 'active');
    await saga.services.tenants.transition(left.id, ['active'], 'provisioning');
    const tenantBusy = await offboard(saga.services, root.id, { cascade: true }).catch((e: unknown) => e);

    expect((databaseBusy as Conflict).details).toEqual({
      reason: 'database_provisioning',
      tenants: [leaf.id],
    });
    expect((tenantBusy as Conflict).details).toEqual({ reason: 'tenant_provisioning', tenants: [left.id] });
    expect(await statuses(all.map((t) => t.id))).toEqual(['active', 'provisioning', 'active', 'active']);
    expect(await saga.workflows.describe(offboardingExecutionName(root.id))).toBeNull();
    await saga.services.tenants.transition(left.id, ['provisioning'], 'active');
  });

  it('a tenant being offboarded cannot be moved out of its subtree (the plan would miss it)', async () => {
    saga.faults = [];
    const parent = await register('Frozen');
    const child = await register('Frozen child', parent.id);
    await saga.services.tenants.transitionAll([parent.id, child.id], ['active'], 'deleting');

    const moved = await hierarchyOf(saga.services)
      .move(child.id, null)
      .catch((error: unknown) => error);

    expect(moved).toBeInstanceOf(Conflict);
    expect((await saga.services.tenants.get(child.id))?.parentId).toBe(parent.id);
  });

  it('the per-tenant step refuses a tenant whose children remain, and drops nothing', async () => {
    saga.faults = [];
    const parent = await register('Step refuses');
    const child = await register('Step refuses child', parent.id);
    await saga.services.tenants.transition(parent.id, ['active'], 'deleting');

    const refusal = await offboardTenant(offboardingDeps(saga.services), parent.id).catch(
      (error: unknown) => error,
    );

    expect(refusal).toBeInstanceOf(TenantHasChildren);
    expect((refusal as Error).message).toContain(child.id);
    expect(await statuses([parent.id, child.id])).toEqual(['deleting', 'active']);
    expect(await leftovers(parent)).toEqual({ databases: 1, roles: 1, secret: true });
  });

  it('the workflow refuses to plan a subtree with a tenant not marked for offboarding, before dropping anything', async () => {
    saga.faults = [];
    const parent = await register('Plan refuses');
    const child = await register('Plan refuses child', parent.id);
    // As if a tenant of the subtree had escaped the route's marking (the route marks them all at once).
    await saga.services.tenants.transition(parent.id, ['active'], 'deleting');

    await saga.workflows.start(`offboard-stray-${parent.id}`, { operation: 'offboard', tenantId: parent.id });
    const execution = await saga.workflows.waitFor(`offboard-stray-${parent.id}`);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'InvalidProvisioningRequest' });
    expect(execution?.steps.map((s) => s.name)).not.toContain('OffboardTenant');
    expect(await statuses([parent.id, child.id])).toEqual(['deleting', 'active']);
    expect(await leftovers(parent)).toEqual({ databases: 1, roles: 1, secret: true });
    expect(await leftovers(child)).toEqual({ databases: 1, roles: 1, secret: true });
  });
});

describe('offboarding a subtree with each step signing as its own function (the deployed IAM policies)', () => {
  let saga: SagaHarness;

  beforeAll(async () => {
    saga = await startSagaHarness(info, { credentials: 'functions' });
  });
  afterAll(async () => {
    await saga?.close();
  });

  it('PlanTenantOffboarding and OffboardTenant are granted what they use: no call is refused', async () => {
    const owner = { userId: randomUUID(), email: `iam-tree-${randomUUID().slice(0, 8)}@example.com` };
    const parent = await registerTenant(saga.services, owner, { name: 'IAM tree' });
    await saga.workflows.waitFor(provisioningExecutionName(parent.id));
    const child = await registerTenant(saga.services, owner, { name: 'IAM tree child', parentId: parent.id });
    await saga.workflows.waitFor(provisioningExecutionName(child.id));
    saga.refusals.length = 0;

    await offboard(saga.services, parent.id, { cascade: true });
    const execution = await saga.workflows.waitFor(offboardingExecutionName(parent.id));

    expect(saga.refusals).toEqual([]);
    expect(execution?.status).toBe('SUCCEEDED');
    for (const id of [parent.id, child.id]) {
      expect((await saga.services.tenants.get(id))?.status, id).toBe('deleted');
      await expect(saga.secrets.getSecretValue(secretNameFor(saga.stage, id))).rejects.toBeInstanceOf(
        SecretNotFound,
      );
    }
  });
});

describe('DELETE /tenants/{tenantId} on a tree, on the local platform', () => {
  const client = new LocalClient(info);
  let owner: Actor;
  afterAll(() => client.close());

  beforeAll(async () => {
    owner = await newActor(client, 'tree-owner');
  });

  async function child(name: string, parentId: string) {
    const { tenantId, tenant } = await newTenant(owner, name, { parentId });
    expect(tenant.status).toBe('active');
    return tenantId;
  }

  async function tree(label: string) {
    const { tenantId: root } = await newTenant(owner, `${label} root`);
    const [left, right] = await Promise.all([child(`${label} left`, root), child(`${label} right`, root)]);
    const leaf = await child(`${label} leaf`, left);
    return { root, left, right, leaf, all: [root, left, right, leaf] };
  }

  const databaseNames = async (tenantId: string) => {
    const list = await owner.call('GET', `/tenants/${tenantId}/databases`);
    return (list.body as { items: { id: string }[] }).items.map((d) => databaseNameFor(d.id));
  };

  async function master<T>(database: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({
      host: info.postgres.host,
      port: info.postgres.port,
      user: info.postgres.user,
      password: info.postgres.password,
      database,
    });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  }

  it('without cascade: 409 has_children naming the children; the tenant and its children stay active', async () => {
    const { root, left, right, leaf } = await tree('Http refused');

    const refused = await owner.call('DELETE', `/tenants/${root}`);
    const plain = await owner.call('DELETE', `/tenants/${root}?cascade=false`);

    expect(refused.status).toBe(409);
    const error = (refused.body as { error: { code: string; reason: string; children: string[] } }).error;
    expect(error).toMatchObject({ code: 'conflict', reason: 'has_children' });
    expect(new Set(error.children)).toEqual(new Set([left, right]));
    expect(plain.status).toBe(409);
    for (const id of [root, left, right, leaf]) {
      expect((await owner.call('GET', `/tenants/${id}`)).body, id).toMatchObject({ status: 'active' });
    }
    // A child with a child of its own is refused the same way.
    expect((await owner.call('DELETE', `/tenants/${left}`)).body).toMatchObject({
      error: { reason: 'has_children', children: [leaf] },
    });
  });

  it('with cascade=true: every tenant of the tree is refused at once, then offboarded leaves first, nothing left', async () => {
    const member = await newActor(client, 'tree-member');
    const { root, left, right, leaf, all } = await tree('Http cascade');
    await addMember(owner, leaf, member, 'admin');
    const databases = (await Promise.all(all.map(databaseNames))).flat();
    expect(databases).toHaveLength(4);

    const answer = await owner.call('DELETE', `/tenants/${root}?cascade=true`);
    const memberAtOnce = await member.call('GET', `/tenants/${leaf}`);
    const again = await owner.call('DELETE', `/tenants/${root}?cascade=true`);

    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ id: root, status: 'deleting' });
    // The grandchild is offboarding (403) or, if its level already ran, gone (404).
    expect([403, 404]).toContain(memberAtOnce.status);
    expect([202, 404]).toContain(again.status);
    for (const id of all) {
      const gone = await eventually(
        () => owner.call('GET', `/tenants/${id}`),
        (r) => r.status === 404,
        30_000,
      );
      expect(gone.status, id).toBe(404);
    }
    // The API stops answering (404) when the memberships go; the root's row is marked `deleted`
    // by the saga's last step just after, so read until every row says so (or time runs out).
    const rows = await eventually(
      () =>
        master(CONTROL_DATABASE, async (c) => {
          const tenants = await c.query<{ id: string; status: string; at: Date }>(
            'select id, status, updated_at as at from tenants where id = any($1)',
            [all],
          );
          const memberships = await c.query('select 1 from memberships where tenant_id = any($1)', [all]);
          return { tenants: tenants.rows, memberships: memberships.rowCount };
        }),
      (found) => found.tenants.every((t) => t.status === 'deleted'),
      30_000,
    );
    const at = (id: string) => rows.tenants.find((t) => t.id === id)?.at.getTime() ?? Number.NaN;
    expect(rows.tenants.map((t) => t.status)).toEqual(['deleted', 'deleted', 'deleted', 'deleted']);
    expect(rows.memberships).toBe(0);
    // Leaves first: each tenant was marked deleted after its children.
    expect(at(leaf)).toBeLessThan(at(left));
    expect(at(left)).toBeLessThan(at(root));
    expect(at(right)).toBeLessThan(at(root));
    const leftover = await master('postgres', async (c) => ({
      databases: (await c.query('select 1 from pg_database where datname = any($1)', [databases])).rowCount,
      roles: (await c.query('select 1 from pg_roles where rolname = any($1)', [all.map(roleNameFor)]))
        .rowCount,
    }));
    expect(leftover).toEqual({ databases: 0, roles: 0 });
    for (const id of all) expect(await tenantSecretOf(info, id), id).toBeNull();
    const mine = (await owner.call('GET', '/me')).body as { memberships: { tenantId: string }[] };
    expect(mine.memberships.filter((m) => all.includes(m.tenantId))).toEqual([]);
    expect((await member.call('GET', '/me')).body).toMatchObject({ memberships: [] });
  }, 90_000);

  it('cascade=true on a tenant without children is a plain offboarding', async () => {
    const { tenantId } = await newTenant(owner, 'Lone leaf');
    const [databaseName] = await databaseNames(tenantId);

    const answer = await owner.call('DELETE', `/tenants/${tenantId}?cascade=true`);

    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ id: tenantId, status: 'deleting' });
    await eventually(
      () => owner.call('GET', `/tenants/${tenantId}`),
      (r) => r.status === 404,
    );
    const leftover = await master('postgres', async (c) => ({
      databases: (await c.query('select 1 from pg_database where datname = $1', [databaseName])).rowCount,
      roles: (await c.query('select 1 from pg_roles where rolname = $1', [roleNameFor(tenantId)])).rowCount,
    }));
    expect(leftover).toEqual({ databases: 0, roles: 0 });
    expect(await tenantSecretOf(info, tenantId)).toBeNull();
  });

  it('a bad cascade value is a 400 and changes nothing', async () => {
    const { tenantId } = await newTenant(owner, 'Bad cascade');

    const response = await owner.call('DELETE', `/tenants/${tenantId}?cascade=yes`);

    expect(response.status).toBe(400);
    expect((await owner.call('GET', `/tenants/${tenantId}`)).body).toMatchObject({ status: 'active' });
  });
});
