import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { LocalEventBus } from '#infra/local/event-bus';
import type { TenantRecord, TenantStatus } from '#shared/control/control-records';
import { catalog, TenantResumed, TenantSuspended } from '#shared/events/events';
import { outgoing } from '#shared/ports/event-publisher';
import { UsageStore } from '#shared/records/usage-store';
import { routeList, routes } from '#shared/routes/table';
import type { RouteSpec } from '#shared/routes/types';
import { changeTenantStatus } from '#shared/tenancy/suspension';
import { type Actor, addMember, eventually, newActor, newTenant } from '../support/actors.ts';
import {
  errorOf,
  expectStatus,
  setTenantStatus,
  unknownRoleId,
  unknownTenantId,
} from '../support/tenancy.ts';

/**
 * Suspension on the local platform: `PUT /tenants/{tenantId}/status` (platform admins), the sweep
 * of every tenant route (generated from the route table) while suspended, billing, resuming.
 */

const info = inject('platform');
const client = new LocalClient(info);
const aws = { region: info.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const usage = new UsageStore(
  new DynamoDBClient({ ...aws, endpoint: info.endpoints.dynamodb }),
  info.tables.usage,
);
afterAll(() => client.close());

const tenantRoutes = routeList.filter((route) => route.access.kind === 'tenant');

/** Path values for the sweep: authorisation answers before any object is looked up. */
function pathOf(route: RouteSpec, values: Record<string, string>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${route.path}: add one to the sweep`);
    return encodeURIComponent(value);
  });
}

describe('tenant suspension', () => {
  let admin: Actor;
  let owner: Actor;
  let member: Actor;
  let finance: Actor;
  let tenantId: string;
  let values: Record<string, string>;

  const setStatus = (actor: Actor, id: string, body: unknown) =>
    actor.call('PUT', `/tenants/${id}/status`, body);
  const statusOf = async () =>
    expectStatus(await admin.call('GET', `/tenants/${tenantId}`), 200).body as {
      status: string;
      statusReason: string | null;
    };
  /** The tenant's billed api_calls with `at` in [from, to]. */
  const billedBetween = async (from: string, to: string) => {
    const days = [...new Set([from.slice(0, 10), to.slice(0, 10)])];
    const raw = (await Promise.all(days.map((day) => usage.rawRecords(tenantId, day)))).flat();
    return raw.filter(
      (record) => record.resourceType === 'api_calls' && record.at >= from && record.at <= to,
    );
  };

  beforeAll(async () => {
    [admin, owner, member, finance] = await Promise.all([
      newActor(client, 'susp-admin', { groups: ['platform-admin'] }),
      newActor(client, 'susp-owner'),
      newActor(client, 'susp-member'),
      newActor(client, 'susp-finance', { groups: ['finance'] }),
    ]);
    ({ tenantId } = await newTenant(owner));
    await addMember(owner, tenantId, member, 'member');
    const databases = expectStatus(await owner.call('GET', `/tenants/${tenantId}/databases`), 200).body as {
      items: { id: string }[];
    };
    values = {
      tenantId,
      userId: member.userId,
      roleId: unknownRoleId(),
      databaseId: databases.items[0]?.id ?? 'd_aaaaaaaaaaaaaaaa',
      table: 'things',
      rowId: '1',
      moduleId: 'billing',
      invitationId: 'no-such-invitation',
      backupId: 'b_aaaaaaaaaaaaaaaa',
    };
  });

  it('refuses everyone but platform admins, and answers 404 for an unknown tenant', async () => {
    const body = { status: 'suspended', reason: 'Unpaid invoices' };
    for (const actor of [owner, member, finance]) {
      const response = await setStatus(actor, tenantId, body);
      expect([403, 404], `${actor.email}: ${response.status}`).toContain(response.status);
    }
    const unknown = await setStatus(admin, unknownTenantId(), body);
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown)?.code).toBe('not_found');
    expect((await statusOf()).status).toBe('active');
  });

  it('refuses a bad body with a 400 and changes nothing', async () => {
    const bad: unknown[] = [
      { status: 'deleted', reason: 'x' },
      { status: 'paused', reason: 'x' },
      { status: 'suspended' },
      { status: 'suspended', reason: '' },
      { status: 'suspended', reason: '   ' },
      { status: 'suspended', reason: 'x'.repeat(501) },
      { status: 'suspended', reason: 'x', extra: true },
      { reason: 'x' },
      'suspended',
      undefined,
    ];
    for (const body of bad) {
      const response = await setStatus(admin, tenantId, body);
      expect(response.status, `${JSON.stringify(body)}: ${JSON.stringify(response.body)}`).toBe(400);
      expect(errorOf(response)?.code).toBe('validation_failed');
    }
    expect(await statusOf()).toMatchObject({ status: 'active' });
    expect((await setStatus(admin, 'nope', { status: 'suspended', reason: 'x' })).status).toBe(400);
  });

  it('suspends: every tenant route answers 403 tenant_suspended but GET /tenants/{tenantId}, nothing is billed, and resuming restores access at once', async () => {
    // Arrange: the owner's access is cached (it must be forgotten on the change).
    expectStatus(await owner.call('GET', `/tenants/${tenantId}/members`), 200);
    const from = new Date().toISOString();
    // Act: suspend.
    const suspended = expectStatus(
      await setStatus(admin, tenantId, { status: 'suspended', reason: '  Unpaid invoices  ' }),
      200,
    );
    expect(suspended.body).toMatchObject({
      id: tenantId,
      status: 'suspended',
      statusReason: 'Unpaid invoices',
    });
    // Assert: the sweep, for the owner and a member.
    for (const route of tenantRoutes) {
      for (const actor of [owner, member]) {
        const response = await actor.call(
          route.method,
          pathOf(route, values),
          route.request.body ? {} : undefined,
        );
        if (route.operationId === routes.getTenant.operationId) {
          expect(response.status).toBe(200);
          expect(response.body).toMatchObject({ status: 'suspended', statusReason: 'Unpaid invoices' });
        } else {
          expect(
            { status: response.status, code: errorOf(response)?.code },
            `${route.method} ${route.path}`,
          ).toEqual({ status: 403, code: 'tenant_suspended' });
        }
      }
    }
    // Suspending again changes nothing (the first reason stays); a platform admin still has access.
    expect(
      expectStatus(await setStatus(admin, tenantId, { status: 'suspended', reason: 'Again' }), 200).body,
    ).toMatchObject({ status: 'suspended', statusReason: 'Unpaid invoices' });
    expectStatus(await admin.call('GET', `/tenants/${tenantId}/members`), 200);
    // Act: resume; access is back at once.
    const resumed = expectStatus(await setStatus(admin, tenantId, { status: 'active', reason: 'Paid' }), 200);
    const to = new Date().toISOString();
    expect(resumed.body).toMatchObject({ status: 'active', statusReason: 'Paid' });
    expectStatus(await owner.call('GET', `/tenants/${tenantId}/members`), 200);
    expectStatus(await member.call('GET', `/tenants/${tenantId}/databases`), 200);
    // Assert billing: the call after resuming is billed; nothing in the suspended period was.
    const after = await eventually(
      () => billedBetween(to, new Date().toISOString()),
      (found) => found.length >= 2,
    );
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(await billedBetween(from, to)).toEqual([]);
  });

  it('moves only active ⇄ suspended: a failed tenant is a 409 and stays failed', async () => {
    const { tenantId: other } = await newTenant(owner);
    await setTenantStatus(info, other, 'failed');
    for (const status of ['suspended', 'active']) {
      const response = await setStatus(admin, other, { status, reason: 'Try' });
      expect(response.status, JSON.stringify(response.body)).toBe(409);
      expect(errorOf(response)?.code).toBe('conflict');
    }
    const read = expectStatus(await admin.call('GET', `/tenants/${other}`), 200).body as { status: string };
    expect(read.status).toBe('failed');
  });

  it('announces Tenant Suspended and Tenant Resumed, valid for the bus that has no subscriber to them', async () => {
    // The platform's bus refuses what is not in the catalog (the route would answer 503); here the
    // use case runs with a recording publisher to check what it announces.
    const published: unknown[] = [];
    let tenant: TenantRecord = {
      id: 't_x',
      name: 'x',
      status: 'active',
      statusReason: null,
      settings: {},
      enabledModules: [],
      plan: 'free',
      planOverrides: {},
      isolation: 'silo',
      parentId: null,
      path: 't_x',
      inheritAccess: true,
      pinnedClusterId: null,
      createdBy: 'u',
      createdAt: '',
      updatedAt: '',
    };
    const deps = {
      tenants: {
        get: async () => tenant,
        transition: async (
          _id: string,
          from: readonly TenantStatus[],
          to: TenantStatus,
          reason: string | null = null,
        ) => {
          if (!from.includes(tenant.status)) return false;
          tenant = { ...tenant, status: to, statusReason: reason };
          return true;
        },
      },
      tenantAccess: { invalidate: () => {} },
      events: {
        publish: async (events: readonly { detailType: string; detail: unknown }[]) => {
          published.push(...events.map((event) => ({ type: event.detailType, ...(event.detail as object) })));
          return { failed: [] };
        },
      },
    };
    await changeTenantStatus(deps, 't_x', { status: 'suspended', reason: 'Fraud check' }, 'admin-1');
    await changeTenantStatus(deps, 't_x', { status: 'active', reason: 'Cleared' }, 'admin-1');
    expect(published).toEqual([
      expect.objectContaining({
        type: 'Tenant Suspended',
        tenantId: 't_x',
        reason: 'Fraud check',
        byUserId: 'admin-1',
      }),
      expect.objectContaining({
        type: 'Tenant Resumed',
        tenantId: 't_x',
        reason: 'Cleared',
        byUserId: 'admin-1',
      }),
    ]);
    const bus = new LocalEventBus({
      busName: 'probe',
      catalog,
      subscriptions: [],
      deadLetterFile: '/dev/null',
      failedInvocationsDir: '/dev/null',
      deliver: async () => {},
    });
    const at = new Date().toISOString();
    const results = bus.putEvents(
      [TenantSuspended, TenantResumed].map((definition) => {
        const event = outgoing(definition, { tenantId: 't_x', reason: 'r', byUserId: 'u', at });
        return { Source: event.source, DetailType: event.detailType, Detail: JSON.stringify(event.detail) };
      }),
    );
    expect(results.every((result) => 'EventId' in result)).toBe(true);
  });
});
