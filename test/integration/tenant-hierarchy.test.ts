import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { MAX_TENANT_DEPTH } from '#shared/control/tenant-paths';
import { type Actor, addMember, eventually, newActor, newTenant } from '../support/actors.ts';
import { decodePayload } from '../support/jwt-forge.ts';
import { errorOf, expectStatus, setTenantStatus, unknownTenantId } from '../support/tenancy.ts';

/**
 * Tenant hierarchies on the local platform (issue 16, docs/tenant-hierarchies.md): children created
 * under `tenants:createChild`, roles inherited downwards (and only downwards), `inheritAccess: false`
 * cutting the chain, the children listing, moves with their cycle, depth and permission checks.
 *
 * The tree: root R with children C1 and C2, and G a child of C1. `owner` made them all (so owns each);
 * `rootAdmin` is an admin of R only; `childOwner` an owner of C1 only; `siblingMember` a member of C2
 * only; `outsider` belongs to none.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

interface TenantView {
  id: string;
  parentId: string | null;
  path: string[];
  inheritAccess: boolean;
  plan: string;
  status: string;
}
interface Child {
  id: string;
  parentId: string;
  depth: number;
  name: string;
}
interface Member {
  userId: string;
  role: string;
  inheritedFrom?: string;
}

const childOf = async (actor: Actor, parentId: string) =>
  (await newTenant(actor, `Child ${randomUUID().slice(0, 6)}`, { parentId })).tenantId;
const tenantOf = async (actor: Actor, tenantId: string) =>
  expectStatus(await actor.call('GET', `/tenants/${tenantId}`), 200).body as TenantView;
const statusOf = async (actor: Actor, path: string) => (await actor.call('GET', path)).status;

describe('tenant hierarchies', () => {
  let owner: Actor;
  let rootAdmin: Actor;
  let childOwner: Actor;
  let siblingMember: Actor;
  let outsider: Actor;
  let platformAdmin: Actor;
  let R: string;
  let C1: string;
  let C2: string;
  let G: string;

  beforeAll(async () => {
    [owner, rootAdmin, childOwner, siblingMember, outsider, platformAdmin] = await Promise.all([
      newActor(client, 'h-owner'),
      newActor(client, 'h-root-admin'),
      newActor(client, 'h-child-owner'),
      newActor(client, 'h-sibling'),
      newActor(client, 'h-outsider'),
      newActor(client, 'h-platform', { groups: ['platform-admin'] }),
    ]);
    R = (await newTenant(owner)).tenantId;
    [C1, C2] = await Promise.all([childOf(owner, R), childOf(owner, R)]);
    G = await childOf(owner, C1);
    await Promise.all([
      addMember(owner, R, rootAdmin, 'admin'),
      addMember(owner, C1, childOwner, 'owner'),
      addMember(owner, C2, siblingMember, 'member'),
    ]);
  });

  describe('creating children', () => {
    it('shows parentId and the path from the root, and makes the creator the owner', async () => {
      expect(await tenantOf(owner, R)).toMatchObject({ parentId: null, path: [R], inheritAccess: true });
      expect(await tenantOf(owner, C1)).toMatchObject({ parentId: R, path: [R, C1], status: 'active' });
      expect(await tenantOf(owner, G)).toMatchObject({ parentId: C1, path: [R, C1, G], status: 'active' });
      const members = expectStatus(await owner.call('GET', `/tenants/${G}/members`), 200).body as {
        items: Member[];
      };
      expect(members.items).toEqual([expect.objectContaining({ userId: owner.userId, role: 'owner' })]);
    });

    it("a child's registration is audited in its parent's log", async () => {
      type Audit = { items: { action: string; userId: string; details: Record<string, unknown> }[] };
      const audit = await eventually(
        async () =>
          expectStatus(await owner.call('GET', `/tenants/${C1}/audit?action=tenants.childCreated`), 200)
            .body as Audit,
        (page) => page.items.some((item) => item.details.tenantId === G),
      );
      expect(audit.items).toContainEqual(
        expect.objectContaining({ userId: owner.userId, details: expect.objectContaining({ tenantId: G }) }),
      );
      // The grandchild's registration is in its parent's log, not its grandparent's.
      const root = expectStatus(
        await owner.call('GET', `/tenants/${R}/audit?action=tenants.childCreated`),
        200,
      ).body as Audit;
      expect(root.items.map((item) => item.details.tenantId)).not.toContain(G);
      expect(root.items.map((item) => item.details.tenantId)).toEqual(expect.arrayContaining([C1, C2]));
    });

    it('a child starts on its parent plan', async () => {
      expectStatus(await platformAdmin.call('PUT', `/tenants/${C2}/plan`, { plan: 'free' }), 200);
      const child = await childOf(owner, C2);
      expect((await tenantOf(owner, child)).plan).toBe('free');
    });

    it('needs tenants:createChild in the parent: members and viewers 403, strangers 404, custom roles may grant it', async () => {
      const [member, viewer, delegate] = await Promise.all([
        newActor(client, 'h-member'),
        newActor(client, 'h-viewer'),
        newActor(client, 'h-delegate'),
      ]);
      await Promise.all([
        addMember(owner, R, member, 'member'),
        addMember(owner, R, viewer, 'viewer'),
        addMember(owner, R, delegate, 'viewer'),
      ]);
      const create = (actor: Actor, parentId: string) =>
        actor.call('POST', '/tenants', { name: 'Refused child', parentId });
      for (const actor of [member, viewer]) {
        const refused = await create(actor, R);
        expect(refused.status).toBe(403);
        expect(errorOf(refused)?.message).toContain('tenants:createChild');
      }
      expect((await create(outsider, R)).status).toBe(404);
      expect((await create(outsider, unknownTenantId())).status).toBe(404);
      expect((await create(owner, 'not-a-tenant')).status).toBe(400);
      // Nothing was made by the refusals: R's children are still C1 and C2 (and C2's are not R's).
      const children = expectStatus(await owner.call('GET', `/tenants/${R}/children`), 200).body as {
        items: Child[];
      };
      expect(children.items.map((c) => c.id).sort()).toEqual([C1, C2].sort());

      const role = expectStatus(
        await owner.call('POST', `/tenants/${R}/roles`, {
          name: `creators-${randomUUID().slice(0, 6)}`,
          permissions: { tenants: ['createChild'] },
        }),
        201,
      ).body as { id: string };
      expectStatus(
        await owner.call('PUT', `/tenants/${R}/members/${delegate.userId}/roles/${role.id}`),
        200,
        204,
      );
      const made = expectStatus(await create(delegate, R), 202).body as TenantView;
      expect(made).toMatchObject({ parentId: R, path: [R, made.id] });
    });

    it(`refuses a child deeper than ${MAX_TENANT_DEPTH} levels below its root with a 400`, async () => {
      let deepest = (await newTenant(owner)).tenantId;
      for (let depth = 1; depth <= MAX_TENANT_DEPTH; depth++) deepest = await childOf(owner, deepest);
      expect((await tenantOf(owner, deepest)).path).toHaveLength(MAX_TENANT_DEPTH + 1);
      const refused = await owner.call('POST', '/tenants', { name: 'Too deep', parentId: deepest });
      expect(refused.status).toBe(400);
      expect(errorOf(refused)).toMatchObject({ code: 'bad_request', reason: 'depth_exceeded' });
      const children = expectStatus(await owner.call('GET', `/tenants/${deepest}/children`), 200).body as {
        items: Child[];
      };
      expect(children.items).toEqual([]);
    });

    it('refuses a child under a parent that is not active', async () => {
      const parent = (await newTenant(owner)).tenantId;
      expectStatus(
        await platformAdmin.call('PUT', `/tenants/${parent}/status`, {
          status: 'suspended',
          reason: 'unpaid',
        }),
        200,
      );
      // A suspended parent: its owner gets tenant_suspended from the permission check itself.
      expect((await owner.call('POST', '/tenants', { name: 'x', parentId: parent })).status).toBe(403);
      // A platform admin passes the check, and the parent's state refuses it.
      const refused = await platformAdmin.call('POST', '/tenants', { name: 'x', parentId: parent });
      expect(refused.status).toBe(409);
    });
  });

  describe('inherited access', () => {
    it('an admin of the root manages a grandchild, listed there with inheritedFrom', async () => {
      expectStatus(await rootAdmin.call('PATCH', `/tenants/${G}`, { language: 'fr' }), 200);
      expectStatus(await rootAdmin.call('GET', `/tenants/${G}/databases`), 200);
      const inherited = expectStatus(await owner.call('GET', `/tenants/${G}/members?inherited=true`), 200)
        .body as { items: Member[] };
      const byUser = new Map(inherited.items.map((m) => [m.userId, m]));
      expect(byUser.get(rootAdmin.userId)).toEqual(
        expect.objectContaining({ role: 'admin', inheritedFrom: R }),
      );
      expect(byUser.get(childOwner.userId)).toEqual(
        expect.objectContaining({ role: 'owner', inheritedFrom: C1 }),
      );
      // The owner holds owner here itself: listed once, without inheritedFrom.
      expect(byUser.get(owner.userId)).toEqual(expect.objectContaining({ role: 'owner' }));
      expect(byUser.get(owner.userId)).not.toHaveProperty('inheritedFrom');
      expect(inherited.items.filter((m) => m.userId === owner.userId)).toHaveLength(1);
      // Siblings' members reach nothing here.
      expect(byUser.has(siblingMember.userId)).toBe(false);
      // Without inherited=true, only the tenant's own members.
      const own = expectStatus(await owner.call('GET', `/tenants/${G}/members`), 200).body as {
        items: Member[];
      };
      expect(own.items.map((m) => m.userId)).toEqual([owner.userId]);
    });

    it('the effective role is the strongest of the own and the inherited ones', async () => {
      const [weakHere, weakAbove] = await Promise.all([
        newActor(client, 'h-weak-here'),
        newActor(client, 'h-weak-above'),
      ]);
      await Promise.all([
        addMember(owner, G, weakHere, 'viewer'),
        addMember(rootAdmin, R, weakHere, 'admin'),
        addMember(owner, R, weakAbove, 'viewer'),
        addMember(owner, G, weakAbove, 'admin'),
      ]);
      // Admin from the root beats viewer here: writes pass.
      expectStatus(await weakHere.call('PATCH', `/tenants/${G}`, { timezone: 'Europe/Paris' }), 200);
      // Admin here beats viewer in the root; in the root itself they stay a viewer.
      expectStatus(await weakAbove.call('PATCH', `/tenants/${G}`, { timezone: 'UTC' }), 200);
      expect((await weakAbove.call('PATCH', `/tenants/${R}`, { timezone: 'UTC' })).status).toBe(403);
      const listed = expectStatus(
        await owner.call('GET', `/tenants/${G}/members?inherited=true&limit=100`),
        200,
      ).body as { items: Member[] };
      expect(listed.items.find((m) => m.userId === weakHere.userId)).toEqual(
        expect.objectContaining({ role: 'admin', inheritedFrom: R }),
      );
      expect(listed.items.find((m) => m.userId === weakAbove.userId)).toEqual(
        expect.objectContaining({ role: 'admin' }),
      );
      expect(listed.items.find((m) => m.userId === weakAbove.userId)).not.toHaveProperty('inheritedFrom');
    });

    it('nothing flows upwards or sideways: 404 as for any foreign tenant', async () => {
      expect(await statusOf(childOwner, `/tenants/${R}`)).toBe(404);
      expect(await statusOf(childOwner, `/tenants/${C2}`)).toBe(404);
      expect(await statusOf(childOwner, `/tenants/${G}`)).toBe(200);
      expect(await statusOf(siblingMember, `/tenants/${C1}`)).toBe(404);
      expect(await statusOf(siblingMember, `/tenants/${G}`)).toBe(404);
      expect(await statusOf(siblingMember, `/tenants/${R}`)).toBe(404);
      expect(await statusOf(outsider, `/tenants/${G}`)).toBe(404);
      expect(await statusOf(childOwner, `/tenants/${R}/children`)).toBe(404);
    });

    it('inheritAccess: false, set by an owner only, stops the ancestors’ roles there and below', async () => {
      const refused = await rootAdmin.call('PATCH', `/tenants/${C1}`, { inheritAccess: false });
      expect(refused.status).toBe(403);
      expect((await tenantOf(owner, C1)).inheritAccess).toBe(true);

      expect((await tenantOf(childOwner, C1)).inheritAccess).toBe(true);
      const cut = expectStatus(
        await childOwner.call('PATCH', `/tenants/${C1}`, { inheritAccess: false }),
        200,
      ).body as TenantView;
      expect(cut.inheritAccess).toBe(false);
      expect(await statusOf(rootAdmin, `/tenants/${C1}`)).toBe(404);
      expect(await statusOf(rootAdmin, `/tenants/${G}`)).toBe(404);
      // Roles held in C1 itself still reach its children; the root's own members keep the root.
      expect(await statusOf(childOwner, `/tenants/${G}`)).toBe(200);
      expect(await statusOf(rootAdmin, `/tenants/${R}`)).toBe(200);
      const listed = expectStatus(await childOwner.call('GET', `/tenants/${G}/members?inherited=true`), 200)
        .body as { items: Member[] };
      expect(listed.items.map((m) => m.userId)).not.toContain(rootAdmin.userId);

      expectStatus(await childOwner.call('PATCH', `/tenants/${C1}`, { inheritAccess: true }), 200);
      expect(await statusOf(rootAdmin, `/tenants/${G}`)).toBe(200);
    });

    it("a membership removed in the root takes the grandchild's access with it", async () => {
      const passing = await newActor(client, 'h-passing');
      await addMember(owner, R, passing, 'admin');
      expect(await statusOf(passing, `/tenants/${G}`)).toBe(200);
      expectStatus(await owner.call('DELETE', `/tenants/${R}/members/${passing.userId}`), 204);
      expect(await statusOf(passing, `/tenants/${G}`)).toBe(404);
    });
  });

  describe('the active tenant and the token claims', () => {
    it('an inherited tenant may be the active one; its claims carry the effective role', async () => {
      const user = await newActor(client, 'h-active');
      await addMember(owner, R, user, 'admin');
      const me = expectStatus(await user.call('PUT', '/me/active-tenant', { tenantId: G }), 200).body as {
        activeTenantId: string;
      };
      expect(me.activeTenantId).toBe(G);
      await user.refresh();
      const claims = decodePayload(user.token);
      expect(claims['tenantry:tenant_id']).toBe(G);
      expect(claims['tenantry:role']).toBe('admin');
      // A sibling's member cannot choose a tenant no role of theirs reaches.
      expect((await siblingMember.call('PUT', '/me/active-tenant', { tenantId: G })).status).toBe(404);
      // Once the inherited role is gone, the claims fall back to the user's own oldest membership.
      expectStatus(await owner.call('DELETE', `/tenants/${R}/members/${user.userId}`), 204);
      await user.refresh();
      expect(decodePayload(user.token)['tenantry:tenant_id']).toBeUndefined();
    });
  });

  describe('GET …/children', () => {
    it('lists direct children, or every descendant with its depth in tree order, in pages', async () => {
      const direct = expectStatus(await owner.call('GET', `/tenants/${R}/children?limit=100`), 200).body as {
        items: Child[];
        nextCursor: string | null;
      };
      expect(direct.items.map((c) => c.id)).toEqual(expect.arrayContaining([C1, C2]));
      expect(direct.items.map((c) => c.id)).not.toContain(G);
      expect(direct.items.every((c) => c.parentId === R && c.depth === 1)).toBe(true);

      const all: Child[] = [];
      let cursor: string | null = null;
      do {
        const page = expectStatus(
          await owner.call(
            'GET',
            `/tenants/${R}/children?depth=all&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
          ),
          200,
        ).body as { items: Child[]; nextCursor: string | null };
        expect(page.items.length).toBeLessThanOrEqual(1);
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      const g = all.find((c) => c.id === G);
      expect(g).toMatchObject({ parentId: C1, depth: 2 });
      // Tree order: G right after its parent C1.
      expect(all.findIndex((c) => c.id === G)).toBe(all.findIndex((c) => c.id === C1) + 1);
      expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
      // A cursor of the other listing is a 400, as is a depth other than 1 or all.
      const firstPage = expectStatus(await owner.call('GET', `/tenants/${R}/children?limit=1`), 200).body as {
        nextCursor: string;
      };
      const mixed = await owner.call(
        'GET',
        `/tenants/${R}/children?depth=all&cursor=${firstPage.nextCursor}`,
      );
      expect(mixed.status).toBe(400);
      expect((await owner.call('GET', `/tenants/${R}/children?depth=2`)).status).toBe(400);
    });
  });

  describe('PUT …/parent', () => {
    it('moves a subtree: paths follow, access follows, both parents audit it', async () => {
      const from = await childOf(owner, R);
      const moving = await childOf(owner, from);
      const below = await childOf(owner, moving);
      const fromOwner = await newActor(client, 'h-from-owner');
      await addMember(owner, from, fromOwner, 'owner');
      expect(await statusOf(fromOwner, `/tenants/${below}`)).toBe(200);

      const moved = expectStatus(await owner.call('PUT', `/tenants/${moving}/parent`, { parentId: C2 }), 200)
        .body as TenantView;
      expect(moved).toMatchObject({ parentId: C2, path: [R, C2, moving] });
      expect((await tenantOf(owner, below)).path).toEqual([R, C2, moving, below]);
      // The old branch's owner loses the subtree; the new branch's member gains it.
      expect(await statusOf(fromOwner, `/tenants/${below}`)).toBe(404);
      expect(await statusOf(siblingMember, `/tenants/${below}`)).toBe(200);

      type Audit = { items: { action: string; details: Record<string, unknown> }[] };
      for (const parent of [from, C2]) {
        const audit = await eventually(
          async () =>
            expectStatus(
              await owner.call('GET', `/tenants/${parent}/audit?action=tenants.parentChanged`),
              200,
            ).body as Audit,
          (page) => page.items.some((item) => item.details.tenantId === moving),
        );
        expect(audit.items).toContainEqual(
          expect.objectContaining({ details: { tenantId: moving, from, to: C2 } }),
        );
      }
    });

    it('refuses cycles and depth with a 409, and leaves the tree as it was', async () => {
      const cycle = await owner.call('PUT', `/tenants/${R}/parent`, { parentId: G });
      expect(cycle.status).toBe(409);
      expect(errorOf(cycle)).toMatchObject({ reason: 'cycle' });
      expect((await owner.call('PUT', `/tenants/${C1}/parent`, { parentId: C1 })).status).toBe(409);
      expect((await tenantOf(owner, R)).path).toEqual([R]);

      // A chain of 3 under a tenant at depth 3 would end at depth 6.
      let deep = (await newTenant(owner)).tenantId;
      for (let i = 0; i < 3; i++) deep = await childOf(owner, deep);
      const top = (await newTenant(owner)).tenantId;
      const mid = await childOf(owner, top);
      await childOf(owner, mid);
      const tooDeep = await owner.call('PUT', `/tenants/${top}/parent`, { parentId: deep });
      expect(tooDeep.status).toBe(409);
      expect(errorOf(tooDeep)).toMatchObject({ reason: 'depth_exceeded' });
      expect((await tenantOf(owner, top)).parentId).toBeNull();
    });

    it('refuses to move a tenant being offboarded, or under one (409)', async () => {
      const [leaving, staying] = await Promise.all([childOf(owner, C2), childOf(owner, C2)]);
      await setTenantStatus(info, leaving, 'deleting');
      expect((await platformAdmin.call('PUT', `/tenants/${leaving}/parent`, { parentId: C1 })).status).toBe(
        409,
      );
      expect(
        (await platformAdmin.call('PUT', `/tenants/${staying}/parent`, { parentId: leaving })).status,
      ).toBe(409);
      expect((await tenantOf(platformAdmin, leaving)).parentId).toBe(C2);
      expect((await tenantOf(owner, staying)).parentId).toBe(C2);
    });

    it('two moves racing to make a loop: one passes, the other is refused as a cycle', async () => {
      for (let round = 0; round < 3; round++) {
        const [x, y] = await Promise.all([childOf(owner, C2), childOf(owner, C2)]);
        const answers = await Promise.all([
          owner.call('PUT', `/tenants/${x}/parent`, { parentId: y }),
          owner.call('PUT', `/tenants/${y}/parent`, { parentId: x }),
        ]);
        expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
        const [px, py] = await Promise.all([tenantOf(owner, x), tenantOf(owner, y)]);
        // Exactly one is under the other, and neither is its own ancestor.
        expect([px.parentId === y, py.parentId === x].filter(Boolean)).toHaveLength(1);
        expect(px.path.filter((id) => id === x)).toHaveLength(1);
        expect(py.path.filter((id) => id === y)).toHaveLength(1);
      }
    });

    it('permissions: owners with createChild in the new parent, platform admins; else 403 or 404', async () => {
      const t = await childOf(owner, C1);
      // An admin (inherited) is not an owner of the tenant.
      expect((await rootAdmin.call('PUT', `/tenants/${t}/parent`, { parentId: C2 })).status).toBe(403);
      // An owner of the tenant (from C1) who is not a member of the new parent.
      expect((await childOwner.call('PUT', `/tenants/${t}/parent`, { parentId: C2 })).status).toBe(404);
      // ... and a member of a tenant without createChild there.
      const memberOwner = await newActor(client, 'h-member-owner');
      await Promise.all([
        addMember(owner, t, memberOwner, 'owner'),
        addMember(owner, C2, memberOwner, 'member'),
      ]);
      const refused = await memberOwner.call('PUT', `/tenants/${t}/parent`, { parentId: C2 });
      expect(refused.status).toBe(403);
      // A viewer or member of the tenant: the route's permission (tenant:write).
      expect((await siblingMember.call('PUT', `/tenants/${C2}/parent`, { parentId: null })).status).toBe(403);
      expect((await outsider.call('PUT', `/tenants/${t}/parent`, { parentId: null })).status).toBe(404);
      // Making a root needs createChild in the current parent: memberOwner has none in C1.
      expect((await memberOwner.call('PUT', `/tenants/${t}/parent`, { parentId: null })).status).toBe(404);
      expect((await tenantOf(owner, t)).parentId).toBe(C1);
      // A platform admin may move anything; an unknown parent is a 404; a malformed one a 400.
      expect(
        (await platformAdmin.call('PUT', `/tenants/${t}/parent`, { parentId: unknownTenantId() })).status,
      ).toBe(404);
      expect((await platformAdmin.call('PUT', `/tenants/${t}/parent`, { parentId: 'nope' })).status).toBe(
        400,
      );
      expect((await platformAdmin.call('PUT', `/tenants/${t}/parent`, {})).status).toBe(400);
      const root = expectStatus(
        await platformAdmin.call('PUT', `/tenants/${t}/parent`, { parentId: null }),
        200,
      ).body as TenantView;
      expect(root).toMatchObject({ parentId: null, path: [t] });
      // Back under C1 by its owner, who holds createChild there.
      expectStatus(await owner.call('PUT', `/tenants/${t}/parent`, { parentId: C1 }), 200);
      expect((await tenantOf(owner, t)).path).toEqual([R, C1, t]);
    });
  });
});
