import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { routeList } from '#shared/routes/table';
import type { RouteSpec } from '#shared/routes/types';
import {
  type Actor,
  addMember,
  eventually,
  invite,
  newActor,
  newTenant,
  type TenantMaking,
} from '../support/actors.ts';
import { errorOf, expectStatus, unknownTenantId } from '../support/tenancy.ts';
import { ISOLATIONS, sendText } from '../support/tenant-data.ts';

/**
 * The isolation matrix, generated from the route table: every tenant-scoped route is called with
 * tenant A's id and A's object ids by the owner of each of A's neighbours in a tenant hierarchy
 * (issue 16): B, A's sibling under P; C, A's child; and P, A's parent, whose roles A cuts off
 * (`inheritAccess: false`). None may tell A from an unknown tenant. A new route is covered as soon
 * as it is in the table; a route with a path parameter or a body this file does not know fails loudly.
 */

/** Tenant routes, and platform routes that name a tenant in their path (`PUT …/status`). */
const tenantRoutes = routeList.filter(
  (route) => route.access.kind === 'tenant' || route.path.includes('{tenantId}'),
);
const paramsOf = (route: RouteSpec) => [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);

interface World {
  readonly tenantId: string;
  readonly ownerUserId: string;
  readonly memberUserId: string;
  readonly roleId: string;
  readonly databaseId: string;
  readonly table: string;
  readonly rowId: string;
  readonly moduleId: string;
  readonly invitationId: string;
  readonly backupId: string;
}

/**
 * Values for every path parameter, keyed by its name, from tenant A's real objects. Add one here
 * when a route introduces a new parameter.
 */
const pathFixtures: Record<string, (a: World) => string> = {
  tenantId: (a) => a.tenantId,
  userId: (a) => a.ownerUserId,
  roleId: (a) => a.roleId,
  databaseId: (a) => a.databaseId,
  table: (a) => a.table,
  rowId: (a) => a.rowId,
  moduleId: (a) => a.moduleId,
  invitationId: (a) => a.invitationId,
  backupId: (a) => a.backupId,
};

/**
 * A minimal valid body per operationId, for every tenant route that takes one. Each is checked
 * against the route's schema below, so a sample cannot silently rot into a 400.
 */
const bodySamples: Record<string, () => unknown> = {
  inviteMember: () => ({ email: `iso-invite-${randomUUID().slice(0, 8)}@example.com`, role: 'viewer' }),
  changeMemberRole: () => ({ role: 'viewer' }),
  createRole: () => ({ name: `iso-${randomUUID().slice(0, 6)}`, permissions: { members: ['read'] } }),
  replaceRole: () => ({ name: `iso-${randomUUID().slice(0, 6)}`, permissions: { members: ['read'] } }),
  updateTenant: () => ({ name: `Renamed by B ${randomUUID().slice(0, 6)}` }),
  createDatabase: () => ({ label: `iso${randomUUID().slice(0, 6)}` }),
  createTable: () => ({ name: `iso_${randomUUID().slice(0, 6)}`, columns: [{ name: 'v', type: 'text' }] }),
  alterTable: () => ({ addColumns: [{ name: `b_${randomUUID().slice(0, 6)}`, type: 'integer' }] }),
  insertRow: () => ({ name: 'planted by B' }),
  insertRows: () => ({ rows: [{ name: 'planted by B' }, { name: 'planted by B too' }] }),
  importRows: () => 'name\r\nplanted by B\r\n',
  patchRow: () => ({ name: 'changed by B' }),
  enableModule: () => ({ moduleId: 'billing', databaseId: 'd_aaaaaaaaaaaaaaaa' }),
  setTenantStatus: () => ({ status: 'suspended', reason: 'Suspended by B' }),
  setTenantPlan: () => ({ plan: 'premium', overrides: { databases: 9 } }),
  setTenantParent: () => ({ parentId: null }),
  setTenantPlacement: () => ({ clusterId: 'c2' }),
  moveDatabase: () => ({ clusterId: 'c2' }),
  setTenantIsolation: () => ({ isolation: 'pool' }),
  restoreBackup: () => ({ databaseId: 'd_aaaaaaaaaaaaaaaa' }),
  createBackup: () => ({}),
  cloneTenant: () => ({ name: `Cloned by B ${randomUUID().slice(0, 6)}` }),
};

/**
 * The query a route needs to get past validation (its schema refuses an empty query), per
 * operationId; checked against the route's schema below like the bodies.
 */
const querySamples: Record<string, string> = { importRows: 'format=csv' };

function pathFor(route: RouteSpec, values: Record<string, string>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${route.path}`);
    return encodeURIComponent(value);
  });
}

describe('the route table is fully covered by the isolation fixtures', () => {
  it('has tenant routes to test', () => {
    expect(tenantRoutes.length).toBeGreaterThan(5);
  });

  it.each(tenantRoutes.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s has a fixture for every path parameter and a sample body',
    (_, route) => {
      for (const name of paramsOf(route)) {
        expect(
          pathFixtures[name],
          `${route.operationId}: path parameter {${name}} has no fixture; add one to pathFixtures in test/security/isolation.test.ts`,
        ).toBeDefined();
      }
      const query = route.request.query;
      if (query && !query.safeParse({}).success) {
        const sample = querySamples[route.operationId];
        expect(
          sample,
          `${route.operationId} needs a query: add a minimal valid one to querySamples in test/security/isolation.test.ts`,
        ).toBeDefined();
        expect(query.safeParse(Object.fromEntries(new URLSearchParams(sample))).success).toBe(true);
      }
      if (route.request.body) {
        const sample = bodySamples[route.operationId];
        expect(
          sample,
          `${route.operationId} takes a body: add a minimal valid sample to bodySamples in test/security/isolation.test.ts`,
        ).toBeDefined();
        const parsed = route.request.body.safeParse(sample?.());
        expect(parsed.success, `the sample body of ${route.operationId} is not valid for its schema`).toBe(
          true,
        );
      }
    },
  );
});

describe.each(ISOLATIONS)('%s tenants', (isolation) => {
  describe('tenant isolation, generated from the route table', () => {
    const info = inject('platform');
    const client = new LocalClient(info);
    let ownerA: Actor;
    let memberA: Actor;
    let ownerB: Actor;
    let ownerC: Actor;
    let ownerP: Actor;
    let a: World & { name: string; roleName: string };
    let tenantB: string;
    let tenantC: string;
    let tenantP: string;
    /** Each neighbour of A, with the tenant it owns. */
    let neighbours: { label: string; actor: Actor; own: string }[];

    const snapshotOfA = async () => {
      const data = `/tenants/${a.tenantId}/databases/${a.databaseId}`;
      const [tenant, members, roles, databases, tables, table, rows, modules] = await Promise.all([
        ownerA.call('GET', `/tenants/${a.tenantId}`),
        ownerA.call('GET', `/tenants/${a.tenantId}/members?limit=100`),
        ownerA.call('GET', `/tenants/${a.tenantId}/roles`),
        ownerA.call('GET', `/tenants/${a.tenantId}/databases?limit=100`),
        ownerA.call('GET', `${data}/tables?limit=100`),
        ownerA.call('GET', `${data}/tables/${a.table}`),
        ownerA.call('GET', `${data}/tables/${a.table}/rows?limit=100`),
        ownerA.call('GET', `/tenants/${a.tenantId}/modules`),
      ]);
      for (const response of [tenant, members, roles, databases, tables, table, rows, modules])
        expectStatus(response, 200);
      return {
        tenant: tenant.body,
        members: members.body,
        roles: roles.body,
        databases: databases.body,
        tables: tables.body,
        table: (table.body as { columns: unknown }).columns,
        rows: rows.body,
        modules: modules.body,
      };
    };
    let before: Awaited<ReturnType<typeof snapshotOfA>>;

    /** Strings of A that must never appear in what B gets back. */
    const secretsOfA = () => [
      a.name,
      ownerA.email,
      memberA.email,
      a.ownerUserId,
      a.memberUserId,
      a.roleId,
      a.roleName,
      a.databaseId,
      a.table,
      a.rowId,
      a.invitationId,
      a.backupId,
      'a-secret-row',
    ];

    beforeAll(async () => {
      let platformAdmin: Actor;
      [ownerA, memberA, ownerB, ownerC, ownerP, platformAdmin] = await Promise.all([
        newActor(client, 'iso-owner-a'),
        newActor(client, 'iso-member-a'),
        newActor(client, 'iso-owner-b'),
        newActor(client, 'iso-owner-c'),
        newActor(client, 'iso-owner-p'),
        newActor(client, 'iso-platform', { groups: ['platform-admin'] }),
      ]);
      const name = `Isolated A ${randomUUID().slice(0, 8)}`;
      const making: TenantMaking =
        isolation === 'pool' ? { isolation, registrar: platformAdmin } : { isolation: 'silo' };
      const [createdA, createdB, createdC, createdP] = await Promise.all([
        newTenant(ownerA, name, {}, making),
        newTenant(ownerB, `Isolated B ${randomUUID().slice(0, 8)}`, {}, making),
        newTenant(ownerC, `Isolated C ${randomUUID().slice(0, 8)}`, {}, making),
        newTenant(ownerP, `Isolated P ${randomUUID().slice(0, 8)}`, {}, making),
      ]);
      tenantB = createdB.tenantId;
      tenantC = createdC.tenantId;
      tenantP = createdP.tenantId;
      // The tree, placed by a platform admin so that no owner holds a role outside their own tenant:
      // P above A and B, C below A; A cuts P's roles off.
      for (const [child, parentId] of [
        [createdA.tenantId, tenantP],
        [tenantB, tenantP],
        [tenantC, createdA.tenantId],
      ] as const) {
        expectStatus(await platformAdmin.call('PUT', `/tenants/${child}/parent`, { parentId }), 200);
      }
      expectStatus(
        await ownerA.call('PATCH', `/tenants/${createdA.tenantId}`, { inheritAccess: false }),
        200,
      );
      neighbours = [
        { label: "B's owner (a sibling)", actor: ownerB, own: tenantB },
        { label: "C's owner (a child)", actor: ownerC, own: tenantC },
        { label: "P's owner (the parent, cut off)", actor: ownerP, own: tenantP },
      ];
      const roleName = `a-secret-role-${randomUUID().slice(0, 6)}`;
      const role = expectStatus(
        await ownerA.call('POST', `/tenants/${createdA.tenantId}/roles`, {
          name: roleName,
          permissions: { audit: ['read'] },
        }),
        201,
      );
      await addMember(ownerA, createdA.tenantId, memberA, 'member');
      const roleId = (role.body as { id: string }).id;
      expectStatus(
        await ownerA.call('PUT', `/tenants/${createdA.tenantId}/members/${memberA.userId}/roles/${roleId}`),
        200,
      );
      const databases = expectStatus(await ownerA.call('GET', `/tenants/${createdA.tenantId}/databases`), 200)
        .body as { items: { id: string }[] };
      const databaseId = databases.items[0]?.id;
      if (!databaseId) throw new Error(`tenant A has no database: ${JSON.stringify(databases)}`);
      // A's data: complete settings, billing enabled, a table of A's own with a row.
      expectStatus(
        await ownerA.call('PATCH', `/tenants/${createdA.tenantId}`, {
          address: { line1: '1 Secret Street', city: 'Lyon', postalCode: '69001', country: 'FR' },
          companyEmail: 'a-billing@example.com',
        }),
        200,
      );
      expectStatus(
        await ownerA.call('POST', `/tenants/${createdA.tenantId}/modules`, {
          moduleId: 'billing',
          databaseId,
        }),
        201,
      );
      const data = `/tenants/${createdA.tenantId}/databases/${databaseId}`;
      const table = `a_secret_${randomUUID().slice(0, 6)}`;
      expectStatus(
        await ownerA.call('POST', `${data}/tables`, {
          name: table,
          columns: [{ name: 'name', type: 'text' }],
        }),
        201,
      );
      const row = expectStatus(
        await ownerA.call('POST', `${data}/tables/${table}/rows`, { name: 'a-secret-row' }),
        201,
      ).body as { id: string };
      const invitationId = await invite(
        ownerA,
        createdA.tenantId,
        `iso-pending-${randomUUID().slice(0, 8)}@example.com`,
        'viewer',
      );
      // A's backup (issue 17), completed before the matrix runs: its manifest names A's table.
      const backup = expectStatus(await ownerA.call('POST', `/tenants/${createdA.tenantId}/backups`, {}), 202)
        .body as { id: string };
      const backupDone = await eventually(
        async () => (await ownerA.call('GET', `/tenants/${createdA.tenantId}/backups/${backup.id}`)).body,
        (body) => (body as { status?: string }).status !== 'running',
        60_000,
      );
      expect(backupDone).toMatchObject({ status: 'completed' });
      a = {
        backupId: backup.id,
        invitationId,
        tenantId: createdA.tenantId,
        databaseId,
        table,
        rowId: row.id,
        moduleId: 'billing',
        ownerUserId: ownerA.userId,
        memberUserId: memberA.userId,
        roleId,
        name,
        roleName,
      };
      before = await snapshotOfA();
    });

    afterAll(() => client.close());

    /** Calls a route as `actor` with its sample query and body (a file as such for a text-body route). */
    const callAs = (actor: Actor, route: RouteSpec, values: Record<string, string>) => {
      const sample = querySamples[route.operationId];
      const path = `${pathFor(route, values)}${sample ? `?${sample}` : ''}`;
      const body = route.request.body ? bodySamples[route.operationId]?.() : undefined;
      const text = route.request.textBody?.[0];
      return text
        ? sendText(info, actor, route.method, path, String(body), text.mediaType)
        : actor.call(route.method, path, body);
    };

    const expectNothingOfA = (response: { body: unknown; headers: Headers }, label: string) => {
      const text = `${JSON.stringify(response.body ?? '')} ${JSON.stringify([...response.headers])}`;
      for (const secret of secretsOfA()) {
        expect(text.includes(secret), `${label} leaked ${secret}: ${text}`).toBe(false);
      }
    };

    describe.each(tenantRoutes.map((route) => [`${route.method} ${route.path}`, route] as const))(
      '%s',
      (_, route) => {
        it("answers each neighbour's owner, on A's tenant id and A's objects, exactly as on an unknown tenant", async () => {
          const values = Object.fromEntries(
            paramsOf(route).map((name) => [name, (pathFixtures[name] as (a: World) => string)(a)]),
          );
          for (const { label, actor } of neighbours) {
            const foreign = await callAs(actor, route, values);
            const unknown = await callAs(actor, route, { ...values, tenantId: unknownTenantId() });

            expect([403, 404], `${label}: ${JSON.stringify(foreign.body)}`).toContain(foreign.status);
            expect({
              status: foreign.status,
              code: errorOf(foreign)?.code,
              message: errorOf(foreign)?.message,
            }).toEqual({
              status: unknown.status,
              code: errorOf(unknown)?.code,
              message: errorOf(unknown)?.message,
            });
            expectNothingOfA(foreign, `${route.operationId} on A's tenant, as ${label}`);
          }
        });

        const objectParams = paramsOf(route).filter((name) => name !== 'tenantId');
        if (objectParams.length > 0) {
          it("answers 404 to each neighbour's owner on their own tenant id with A's object ids", async () => {
            const values = Object.fromEntries(
              paramsOf(route).map((name) => [name, (pathFixtures[name] as (a: World) => string)(a)]),
            );
            for (const { label, actor, own } of neighbours) {
              const response = await callAs(actor, route, { ...values, tenantId: own });
              // A platform route (a move) refuses every non-admin alike, on any tenant: 403.
              const expected = route.access.kind === 'platform' ? 403 : 404;
              expect(response.status, `${label}: ${JSON.stringify(response.body)}`).toBe(expected);
              expectNothingOfA(response, `${route.operationId} on ${label}'s tenant with A's ids`);
            }
          });
        }
      },
    );

    it('platform analytics (no tenant in its path): A, its owner and member, and every neighbour get the same 403, with nothing of any tenant', async () => {
      const month = new Date().toISOString().slice(0, 7);
      for (const [label, actor] of [
        ['A', ownerA],
        ['A member', memberA],
        ...neighbours.map(({ label, actor }) => [label, actor] as const),
      ] as const) {
        const response = await actor.call('GET', `/platform/analytics?from=${month}&to=${month}`);
        expect(response.status, `${label}: ${JSON.stringify(response.body)}`).toBe(403);
        expectNothingOfA(response, `getPlatformAnalytics as ${label}`);
        for (const tenant of [tenantB, tenantC, tenantP])
          expect(JSON.stringify(response.body)).not.toContain(tenant);
      }
    });

    it("leaves A's tenant, members and roles exactly as they were", async () => {
      const after = await snapshotOfA();
      expect(after).toEqual(before);
    });

    it("no neighbour became a member of A, the tree is as it was, and A's owner still has full access", async () => {
      for (const { actor } of neighbours) {
        const me = expectStatus(await actor.call('GET', '/me'), 200).body as {
          memberships: { tenantId: string }[];
        };
        expect(me.memberships.map((m) => m.tenantId)).not.toContain(a.tenantId);
      }
      expectStatus(await ownerA.call('GET', `/tenants/${a.tenantId}/members`), 200);
      const [child, sibling] = await Promise.all([
        ownerC.call('GET', `/tenants/${tenantC}`),
        ownerB.call('GET', `/tenants/${tenantB}`),
      ]);
      expect(expectStatus(child, 200).body).toMatchObject({ path: [tenantP, a.tenantId, tenantC] });
      expect(expectStatus(sibling, 200).body).toMatchObject({ path: [tenantP, tenantB] });
    });
  });
});
