import { randomUUID } from 'node:crypto';
import { CognitoIdentityProviderClient, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { BUILT_IN_ROLE_PERMISSIONS, type BuiltInRole, type Permission } from '#shared/domain/permissions';
import { routeList } from '#shared/routes/table';
import type { RouteSpec } from '#shared/routes/types';
import { type Actor, addMember, newActor, newTenant } from '../support/actors.ts';
import { decodePayload, signAsCognitoLocal } from '../support/jwt-forge.ts';
import {
  errorOf,
  expectStatus,
  setTenantStatus,
  unknownRoleId,
  unknownTenantId,
} from '../support/tenancy.ts';

/**
 * Who may do what inside one tenant, on the local platform with real tokens: built-in roles,
 * custom roles (exactly their permissions), the owner rules, escalation, active tenant, platform
 * admin and suspension.
 */

const info = inject('platform');
const client = new LocalClient(info);
const cognito = new CognitoIdentityProviderClient({
  region: info.region,
  endpoint: info.endpoints.cognito,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
afterAll(() => {
  client.close();
  cognito.destroy();
});

const tenantRoutes = routeList.filter(
  (route): route is RouteSpec & { access: { kind: 'tenant'; permission: Permission } } =>
    route.access.kind === 'tenant',
);

/**
 * Any well-formed values: a denied call is refused before its parameters or body are even read
 * (authorisation comes before validation), so they need not name real objects.
 */
const anyPath = (route: RouteSpec, tenantId: string, userId: string) =>
  route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'tenantId' ? tenantId : name === 'userId' ? userId : name === 'roleId' ? unknownRoleId() : 'x',
  );

/** Every tenant route the actor's permissions do not cover answers 403, whatever the body. */
async function expectDeniedOutside(actor: Actor, tenantId: string, allowed: ReadonlySet<Permission>) {
  const denied = tenantRoutes.filter((route) => !allowed.has(route.access.permission));
  expect(denied.length).toBeGreaterThan(0);
  for (const route of denied) {
    const body = route.method === 'GET' ? undefined : {};
    const response = await actor.call(route.method, anyPath(route, tenantId, actor.userId), body);
    expect(response.status, `${route.operationId} (${route.access.permission}) should be forbidden`).toBe(
      403,
    );
    expect(errorOf(response)?.code).toBe('forbidden');
  }
  return denied.map((route) => route.operationId);
}

const builtIn = (role: BuiltInRole) => BUILT_IN_ROLE_PERMISSIONS[role];
const union = (role: BuiltInRole, ...extra: Permission[]) =>
  new Set<Permission>([...builtIn(role), ...extra]);

const members = async (actor: Actor, tenantId: string) =>
  (
    expectStatus(await actor.call('GET', `/tenants/${tenantId}/members?limit=100`), 200).body as {
      items: { userId: string; email: string; role: string; customRoles: { id: string }[] }[];
    }
  ).items;

async function createRole(
  owner: Actor,
  tenantId: string,
  permissions: object,
  name = `role-${randomUUID().slice(0, 8)}`,
) {
  const response = expectStatus(
    await owner.call('POST', `/tenants/${tenantId}/roles`, { name, permissions }),
    201,
  );
  return (response.body as { id: string }).id;
}

async function assign(owner: Actor, tenantId: string, actor: Actor, roleId: string) {
  expectStatus(await owner.call('PUT', `/tenants/${tenantId}/members/${actor.userId}/roles/${roleId}`), 200);
}

const fresh = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;

describe('access control inside one tenant', () => {
  let owner: Actor;
  let admin: Actor;
  let member: Actor;
  let viewer: Actor;
  let tenantId: string;

  beforeAll(async () => {
    [owner, admin, member, viewer] = await Promise.all([
      newActor(client, 'ac-owner'),
      newActor(client, 'ac-admin'),
      newActor(client, 'ac-member'),
      newActor(client, 'ac-viewer'),
    ]);
    ({ tenantId } = await newTenant(owner));
    await addMember(owner, tenantId, admin, 'admin');
    await addMember(owner, tenantId, member, 'member');
    await addMember(owner, tenantId, viewer, 'viewer');
  });

  it('a viewer reads the tenant, its members and roles', async () => {
    for (const path of ['', '/members', '/roles']) {
      expectStatus(await viewer.call('GET', `/tenants/${tenantId}${path}`), 200);
    }
  });

  it('a viewer gets 403 on every route that needs more than read (generated from the route table)', async () => {
    const denied = await expectDeniedOutside(viewer, tenantId, builtIn('viewer'));
    expect(denied).toEqual(
      expect.arrayContaining([
        'inviteMember',
        'changeMemberRole',
        'removeMember',
        'createRole',
        'replaceRole',
      ]),
    );
    expect(denied).toEqual(expect.arrayContaining(['deleteRole', 'assignRole', 'unassignRole']));
  });

  it('a member reads what the member role allows but cannot manage members or roles', async () => {
    for (const path of ['', '/members', '/roles']) {
      expectStatus(await member.call('GET', `/tenants/${tenantId}${path}`), 200);
    }
    const denied = await expectDeniedOutside(member, tenantId, builtIn('member'));
    expect(denied).toEqual(
      expect.arrayContaining([
        'inviteMember',
        'changeMemberRole',
        'removeMember',
        'createRole',
        'assignRole',
      ]),
    );
  });

  it('an admin manages members and roles', async () => {
    // Invitations are pending until accepted: the admin manages a member who accepted one.
    const joined = await newActor(client, 'ac-by-admin');
    await addMember(admin, tenantId, joined, 'member');
    expectStatus(
      await admin.call('PATCH', `/tenants/${tenantId}/members/${joined.userId}`, { role: 'viewer' }),
      200,
    );
    const roleId = await createRole(admin, tenantId, { databases: ['read', 'write'] });
    expectStatus(await admin.call('DELETE', `/tenants/${tenantId}/roles/${roleId}`), 204);
    expectStatus(await admin.call('DELETE', `/tenants/${tenantId}/members/${joined.userId}`), 204);
  });

  describe('custom roles grant exactly their permissions', () => {
    let holder: Actor;
    let inviterRole: string;

    beforeAll(async () => {
      holder = await newActor(client, 'ac-custom');
      await addMember(owner, tenantId, holder, 'viewer');
      inviterRole = await createRole(owner, tenantId, { members: ['write'] });
      await assign(owner, tenantId, holder, inviterRole);
    });

    it('a viewer with {members:[write]} can invite, and nothing else beyond read', async () => {
      expectStatus(
        await holder.call('POST', `/tenants/${tenantId}/members`, {
          email: fresh('ac-by-custom'),
          role: 'viewer',
        }),
        201,
      );
      const denied = await expectDeniedOutside(holder, tenantId, union('viewer', 'members:write'));
      expect(denied).toEqual(
        expect.arrayContaining(['createRole', 'replaceRole', 'deleteRole', 'assignRole']),
      );
      expect(denied).not.toContain('inviteMember');
    });

    it('members:write does not let its holder hand out a built-in role wider than their own', async () => {
      // An invitation as admin (to an account they control), or promoting themselves, would make
      // a viewer with members:write an admin.
      const asAdmin = await holder.call('POST', `/tenants/${tenantId}/members`, {
        email: fresh('ac-escalate'),
        role: 'admin',
      });
      expect(asAdmin.status, JSON.stringify(asAdmin.body)).toBe(403);
      const promote = await holder.call('PATCH', `/tenants/${tenantId}/members/${holder.userId}`, {
        role: 'admin',
      });
      expect(promote.status, JSON.stringify(promote.body)).toBe(403);
      const demoteAdmin = await holder.call('PATCH', `/tenants/${tenantId}/members/${admin.userId}`, {
        role: 'viewer',
      });
      expect(demoteAdmin.status, JSON.stringify(demoteAdmin.body)).toBe(403);
      const removeAdmin = await holder.call('DELETE', `/tenants/${tenantId}/members/${admin.userId}`);
      expect(removeAdmin.status, JSON.stringify(removeAdmin.body)).toBe(403);
      const roles = Object.fromEntries((await members(owner, tenantId)).map((m) => [m.userId, m.role]));
      expect(roles[holder.userId]).toBe('viewer');
      expect(roles[admin.userId]).toBe('admin');
    });

    it('replacing the role takes effect at once', async () => {
      expectStatus(
        await owner.call('PUT', `/tenants/${tenantId}/roles/${inviterRole}`, {
          name: 'role-makers',
          permissions: { roles: ['write'] },
        }),
        200,
      );
      const invite = await holder.call('POST', `/tenants/${tenantId}/members`, {
        email: fresh('ac-after-replace'),
        role: 'viewer',
      });
      expect(invite.status).toBe(403);
      const created = await createRole(holder, tenantId, { members: ['read'] });
      expect(created).toMatch(/^r_/);
      await expectDeniedOutside(holder, tenantId, union('viewer', 'roles:write'));
    });

    it('unassigning the role takes effect at once', async () => {
      expectStatus(
        await owner.call('DELETE', `/tenants/${tenantId}/members/${holder.userId}/roles/${inviterRole}`),
        204,
      );
      const response = await holder.call('POST', `/tenants/${tenantId}/roles`, {
        name: `r-${randomUUID().slice(0, 6)}`,
        permissions: { members: ['read'] },
      });
      expect(response.status).toBe(403);
      await expectDeniedOutside(holder, tenantId, builtIn('viewer'));
    });

    it('deleting a role takes effect at once for its holders', async () => {
      const roleId = await createRole(owner, tenantId, { members: ['write'] });
      await assign(owner, tenantId, holder, roleId);
      expectStatus(
        await holder.call('POST', `/tenants/${tenantId}/members`, {
          email: fresh('ac-before-delete'),
          role: 'viewer',
        }),
        201,
      );
      expectStatus(await owner.call('DELETE', `/tenants/${tenantId}/roles/${roleId}`), 204);
      const after = await holder.call('POST', `/tenants/${tenantId}/members`, {
        email: fresh('ac-after-delete'),
        role: 'viewer',
      });
      expect(after.status).toBe(403);
      const mine = (await members(owner, tenantId)).find((m) => m.userId === holder.userId);
      expect(mine?.customRoles).toEqual([]);
    });
  });

  describe('escalation', () => {
    let delegate: Actor;
    let wideRole: string;

    beforeAll(async () => {
      delegate = await newActor(client, 'ac-delegate');
      await addMember(owner, tenantId, delegate, 'member');
      const managerRole = await createRole(owner, tenantId, { roles: ['write'], members: ['write'] });
      await assign(owner, tenantId, delegate, managerRole);
      wideRole = await createRole(owner, tenantId, { tenant: ['write'] });
    });

    it('a member with {roles,members:[write]} cannot create a role with a permission they lack', async () => {
      const response = await delegate.call('POST', `/tenants/${tenantId}/roles`, {
        name: 'tenant-editors',
        permissions: { tenant: ['write'] },
      });
      expect(response.status).toBe(403);
      expect(JSON.stringify(response.body)).toContain('tenant:write');
      const listed = expectStatus(await owner.call('GET', `/tenants/${tenantId}/roles`), 200).body as {
        items: { name: string }[];
      };
      expect(listed.items.map((r) => r.name)).not.toContain('tenant-editors');
    });

    it('nor replace a role to carry it, nor assign an existing role that carries it (not even to themselves)', async () => {
      const mine = await createRole(delegate, tenantId, { rows: ['write'] });
      const replace = await delegate.call('PUT', `/tenants/${tenantId}/roles/${mine}`, {
        name: 'now-wider',
        permissions: { rows: ['write'], tenant: ['write'] },
      });
      expect(replace.status).toBe(403);
      const assignSelf = await delegate.call(
        'PUT',
        `/tenants/${tenantId}/members/${delegate.userId}/roles/${wideRole}`,
      );
      expect(assignSelf.status).toBe(403);
      const assignOther = await delegate.call(
        'PUT',
        `/tenants/${tenantId}/members/${viewer.userId}/roles/${wideRole}`,
      );
      expect(assignOther.status).toBe(403);
      const me = (await members(owner, tenantId)).find((m) => m.userId === delegate.userId);
      expect(me?.customRoles.map((r) => r.id)).not.toContain(wideRole);
    });

    it('tenant:delete can be in no custom role, not even one an owner makes (400)', async () => {
      const response = await owner.call('POST', `/tenants/${tenantId}/roles`, {
        name: 'offboarders',
        permissions: { tenant: ['read', 'delete'] },
      });
      expect(response.status).toBe(400);
      expect(JSON.stringify(errorOf(response)?.details)).toContain('permissions.tenant');
    });
  });

  describe('owners', () => {
    let soleOwner: Actor;
    let second: Actor;
    let tenantAdmin: Actor;
    let ownersTenant: string;

    beforeAll(async () => {
      [soleOwner, second, tenantAdmin] = await Promise.all([
        newActor(client, 'ac-sole'),
        newActor(client, 'ac-second'),
        newActor(client, 'ac-tadmin'),
      ]);
      ({ tenantId: ownersTenant } = await newTenant(soleOwner));
      await addMember(soleOwner, ownersTenant, tenantAdmin, 'admin');
      await addMember(soleOwner, ownersTenant, second, 'member');
    });

    it('the last owner can be neither removed nor demoted (409)', async () => {
      const remove = await soleOwner.call('DELETE', `/tenants/${ownersTenant}/members/${soleOwner.userId}`);
      expect(remove.status).toBe(409);
      const demote = await soleOwner.call('PATCH', `/tenants/${ownersTenant}/members/${soleOwner.userId}`, {
        role: 'admin',
      });
      expect(demote.status).toBe(409);
      expect((await members(soleOwner, ownersTenant)).find((m) => m.userId === soleOwner.userId)?.role).toBe(
        'owner',
      );
    });

    it('an admin can neither grant the owner role nor demote or remove an owner (403)', async () => {
      const grant = await tenantAdmin.call('PATCH', `/tenants/${ownersTenant}/members/${second.userId}`, {
        role: 'owner',
      });
      expect(grant.status).toBe(403);
      const invite = await tenantAdmin.call('POST', `/tenants/${ownersTenant}/members`, {
        email: fresh('ac-owner-invite'),
        role: 'owner',
      });
      expect(invite.status).toBe(403);
      const demote = await tenantAdmin.call('PATCH', `/tenants/${ownersTenant}/members/${soleOwner.userId}`, {
        role: 'viewer',
      });
      expect(demote.status).toBe(403);
      const remove = await tenantAdmin.call('DELETE', `/tenants/${ownersTenant}/members/${soleOwner.userId}`);
      expect(remove.status).toBe(403);
      const roles = Object.fromEntries(
        (await members(soleOwner, ownersTenant)).map((m) => [m.userId, m.role]),
      );
      expect(roles).toMatchObject({ [soleOwner.userId]: 'owner', [second.userId]: 'member' });
    });

    it('with a second owner, the first can step down and then be removed', async () => {
      expectStatus(
        await soleOwner.call('PATCH', `/tenants/${ownersTenant}/members/${second.userId}`, { role: 'owner' }),
        200,
      );
      expectStatus(
        await soleOwner.call('PATCH', `/tenants/${ownersTenant}/members/${soleOwner.userId}`, {
          role: 'admin',
        }),
        200,
      );
      // Now an admin, the former owner can no longer touch the remaining owner.
      const demote = await soleOwner.call('PATCH', `/tenants/${ownersTenant}/members/${second.userId}`, {
        role: 'admin',
      });
      expect(demote.status).toBe(403);
      expectStatus(await second.call('DELETE', `/tenants/${ownersTenant}/members/${soleOwner.userId}`), 204);
      const last = await second.call('DELETE', `/tenants/${ownersTenant}/members/${second.userId}`);
      expect(last.status).toBe(409);
    });
  });

  it('removing a member takes effect on their very next call (404, like any foreign tenant)', async () => {
    const leaving = await newActor(client, 'ac-leaving');
    await addMember(owner, tenantId, leaving, 'admin');
    expectStatus(await leaving.call('GET', `/tenants/${tenantId}/members`), 200);
    expectStatus(await owner.call('DELETE', `/tenants/${tenantId}/members/${leaving.userId}`), 204);
    const after = await leaving.call('GET', `/tenants/${tenantId}/members`);
    const unknown = await leaving.call('GET', `/tenants/${unknownTenantId()}/members`);
    expect(after.status).toBe(404);
    expect(errorOf(after)?.code).toBe(errorOf(unknown)?.code);
    expect((await leaving.call('GET', `/tenants/${tenantId}`)).status).toBe(404);
  });

  it('a demotion takes effect on the next call', async () => {
    const demoted = await newActor(client, 'ac-demoted');
    await addMember(owner, tenantId, demoted, 'admin');
    expectStatus(await demoted.call('GET', `/tenants/${tenantId}/roles`), 200);
    expectStatus(
      await owner.call('PATCH', `/tenants/${tenantId}/members/${demoted.userId}`, { role: 'viewer' }),
      200,
    );
    const invite = await demoted.call('POST', `/tenants/${tenantId}/members`, {
      email: fresh('ac-x'),
      role: 'viewer',
    });
    expect(invite.status).toBe(403);
  });

  describe('invitations and the member list', () => {
    it('inviting an unknown email creates the Cognito user and a pending invitation (no membership yet)', async () => {
      const email = fresh('ac-unknown');
      const response = expectStatus(
        await owner.call('POST', `/tenants/${tenantId}/members`, { email, role: 'member' }),
        201,
      );
      const invited = response.body as { id: string; email: string; role: string; status: string };
      expect(invited).toMatchObject({ email, role: 'member', status: 'pending' });
      const users = await cognito.send(
        new ListUsersCommand({ UserPoolId: info.userPoolId, Filter: `email = "${email}"` }),
      );
      expect(users.Users).toHaveLength(1);
      expect((await members(owner, tenantId)).find((m) => m.email === email)).toBeUndefined();
    });

    it('inviting an existing user creates no second Cognito user, and inviting a member again is 409', async () => {
      const existing = await newActor(client, 'ac-existing');
      await addMember(owner, tenantId, existing, 'viewer');
      const users = await cognito.send(
        new ListUsersCommand({ UserPoolId: info.userPoolId, Filter: `email = "${existing.email}"` }),
      );
      expect(users.Users).toHaveLength(1);
      const count = (await members(owner, tenantId)).length;
      const again = await owner.call('POST', `/tenants/${tenantId}/members`, {
        email: existing.email.toUpperCase(),
        role: 'admin',
      });
      expect(again.status).toBe(409);
      const after = await members(owner, tenantId);
      expect(after).toHaveLength(count);
      expect(after.find((m) => m.userId === existing.userId)?.role).toBe('viewer');
      // The member who accepted sees the tenant at once.
      expectStatus(await existing.call('GET', `/tenants/${tenantId}`), 200);
    });

    it('pages the member list with limit and cursor, without gaps or repeats', async () => {
      const all = await members(owner, tenantId);
      expect(all.length).toBeGreaterThanOrEqual(5);
      const { items, pages } = await pagesOf<{ userId: string }>(owner, `/tenants/${tenantId}/members`);
      expect(pages).toBe(Math.ceil(all.length / 2));
      expect(items.map((m) => m.userId)).toEqual(all.map((m) => m.userId));
    });

    it('pages the custom roles with limit and cursor, by name, without gaps or repeats', async () => {
      const names = ['Zeta pager', 'alpha pager', 'Beta pager', 'gamma pager', 'Delta pager'];
      for (const name of names) {
        expectStatus(
          await owner.call('POST', `/tenants/${tenantId}/roles`, { name, permissions: { rows: ['read'] } }),
          201,
        );
      }
      const seen = (await pagesOf<{ name: string }>(owner, `/tenants/${tenantId}/roles`)).items.map(
        (r) => r.name,
      );
      const pagers = seen.filter((name) => name.endsWith(' pager'));
      expect(pagers).toEqual(['alpha pager', 'Beta pager', 'Delta pager', 'gamma pager', 'Zeta pager']);
      expect(new Set(seen).size).toBe(seen.length);
    });
  });
});

/** Follows a list's cursor two items at a time; every page is checked to hold at most two. */
async function pagesOf<T>(actor: Actor, path: string): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
    const page = expectStatus(await actor.call('GET', `${path}${query}`), 200).body as {
      items: T[];
      nextCursor: string | null;
    };
    expect(page.items.length).toBeLessThanOrEqual(2);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor && pages < 50);
  return { items, pages };
}

describe('the active tenant', () => {
  it('switches only to a tenant the caller is a member of, and a fresh token carries it', async () => {
    const [user, stranger] = await Promise.all([
      newActor(client, 'ac-active'),
      newActor(client, 'ac-stranger'),
    ]);
    const [{ tenantId: first }, { tenantId: foreign }] = await Promise.all([
      newTenant(user),
      newTenant(stranger),
    ]);
    const { tenantId: second } = await newTenant(user);

    const notMine = await user.call('PUT', '/me/active-tenant', { tenantId: foreign });
    const unknown = await user.call('PUT', '/me/active-tenant', { tenantId: unknownTenantId() });
    expect(notMine.status).toBe(404);
    expect(errorOf(notMine)?.code).toBe(errorOf(unknown)?.code);
    expect(JSON.stringify(notMine.body)).not.toContain(stranger.email);

    await user.refresh();
    expect(decodePayload(user.token)['tenantry:tenant_id']).toBe(first);

    const switched = expectStatus(await user.call('PUT', '/me/active-tenant', { tenantId: second }), 200);
    expect((switched.body as { activeTenantId: string }).activeTenantId).toBe(second);
    const me = expectStatus(await user.call('GET', '/me'), 200).body as {
      activeTenantId: string;
      memberships: { tenantId: string; role: string }[];
    };
    expect(me.activeTenantId).toBe(second);
    expect(me.memberships.map((m) => m.tenantId).sort()).toEqual([first, second].sort());
    expect(me.memberships.map((m) => m.tenantId)).not.toContain(foreign);

    await user.refresh();
    const claims = decodePayload(user.token);
    expect(claims['tenantry:tenant_id']).toBe(second);
    expect(claims['tenantry:role']).toBe('owner');
  });
});

describe('tokens without tenant claims (issued while the control database was resuming)', () => {
  it('reach the same tenants with the same answers, and claims naming another tenant grant nothing there', async () => {
    // Arrange: the same signed claims as a real sign-in, without or with forged tenant claims.
    const [user, stranger] = await Promise.all([
      newActor(client, 'ac-noclaims'),
      newActor(client, 'ac-other'),
    ]);
    const [{ tenantId: mine }, { tenantId: theirs }] = await Promise.all([
      newTenant(user),
      newTenant(stranger),
    ]);
    await user.refresh();
    const genuine = decodePayload(user.token);
    expect(genuine['tenantry:tenant_id']).toBe(mine);
    const { 'tenantry:tenant_id': _tenant, 'tenantry:role': _role, ...withoutClaims } = genuine;
    const bare = signAsCognitoLocal(withoutClaims);
    const forged = signAsCognitoLocal({
      ...withoutClaims,
      'tenantry:tenant_id': theirs,
      'tenantry:role': 'owner',
    });
    const as = (token: string, method: string, path: string) => client.call(method, path, { token });

    // Act + Assert: without claims, the caller's memberships still come from the control database.
    const me = expectStatus(await as(bare, 'GET', '/me'), 200).body as {
      activeTenantId: string;
      memberships: { tenantId: string; role: string }[];
    };
    expect(me.activeTenantId).toBe(mine);
    expect(me.memberships).toEqual([expect.objectContaining({ tenantId: mine, role: 'owner' })]);
    for (const path of [`/tenants/${mine}`, `/tenants/${mine}/members`, `/tenants/${mine}/databases`]) {
      const withClaims = await as(user.token, 'GET', path);
      const without = await as(bare, 'GET', path);
      expect({ path, status: without.status }).toEqual({ path, status: 200 });
      expect(without.body).toEqual(withClaims.body);
    }
    // Claims can only ever say less than the database: naming a foreign tenant opens nothing.
    for (const token of [bare, forged]) {
      expect((await as(token, 'GET', `/tenants/${theirs}`)).status).toBe(404);
      expect((await as(token, 'DELETE', `/tenants/${theirs}`)).status).toBe(404);
    }
    expect(expectStatus(await as(stranger.token, 'GET', `/tenants/${theirs}`), 200).body).toMatchObject({
      status: 'active',
    });
  });
});

describe('platform admins and suspended tenants', () => {
  let platformAdmin: Actor;
  let owner: Actor;
  let tenantId: string;
  let tenantName: string;

  beforeAll(async () => {
    [platformAdmin, owner] = await Promise.all([
      newActor(client, 'ac-platform', { groups: ['platform-admin'] }),
      newActor(client, 'ac-powner'),
    ]);
    ({ tenantId, name: tenantName } = await newTenant(owner));
    await newTenant(owner);
  });

  it('GET /tenants is for platform admins, paginated', async () => {
    const first = expectStatus(await platformAdmin.call('GET', '/tenants?limit=1'), 200).body as {
      items: { id: string }[];
      nextCursor: string | null;
    };
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toEqual(expect.any(String));
    // Each tenant with its plan, its isolation and its place in a hierarchy (null for a root).
    expect(Object.keys(first.items[0] ?? {}).sort()).toEqual([
      'createdAt',
      'id',
      'isolation',
      'name',
      'parentId',
      'plan',
      'status',
    ]);
    const next = expectStatus(
      await platformAdmin.call(
        'GET',
        `/tenants?limit=1&cursor=${encodeURIComponent(first.nextCursor ?? '')}`,
      ),
      200,
    ).body as { items: { id: string }[] };
    expect(next.items).toHaveLength(1);
    expect(next.items[0]?.id).not.toBe(first.items[0]?.id);

    const forbidden = await owner.call('GET', '/tenants');
    expect(forbidden.status).toBe(403);
    expect(JSON.stringify(forbidden.body)).not.toContain(tenantName);
  });

  it('a platform admin reads a tenant they are not a member of', async () => {
    const response = expectStatus(await platformAdmin.call('GET', `/tenants/${tenantId}`), 200);
    expect((response.body as { name: string }).name).toBe(tenantName);
    expect((await platformAdmin.call('GET', `/tenants/${unknownTenantId()}`)).status).toBe(404);
  });

  it('a suspended tenant answers 403 tenant_suspended to its members (but shows itself) and 200 to the platform admin', async () => {
    const { tenantId: suspended } = await newTenant(owner);
    const suspendedMember = await newActor(client, 'ac-susp');
    await addMember(owner, suspended, suspendedMember, 'admin');
    const platformAdmin2 = await newActor(client, 'ac-platform2', { groups: ['platform-admin'] });
    await setTenantStatus(info, suspended, 'suspended');
    try {
      // Callers whose access has not been cached yet see the suspension at once (others within 30 s).
      const member = await suspendedMember.call('GET', `/tenants/${suspended}/members`);
      expect(member.status).toBe(403);
      expect(errorOf(member)?.code).toBe('tenant_suspended');
      const shown = expectStatus(await suspendedMember.call('GET', `/tenants/${suspended}`), 200);
      expect((shown.body as { status: string }).status).toBe('suspended');
      const read = expectStatus(await platformAdmin2.call('GET', `/tenants/${suspended}`), 200);
      expect((read.body as { status: string }).status).toBe('suspended');
      expectStatus(await platformAdmin2.call('GET', `/tenants/${suspended}/members`), 200);
    } finally {
      await setTenantStatus(info, suspended, 'active');
    }
  });
});
