import { beforeEach, describe, expect, it } from 'vitest';
import { ACCESS_CACHE_MS, ControlTenantAccess } from '#shared/control/access-policy';
import type { TenantAccessRecord, TenantStatus } from '#shared/control/control-records';
import type { TenantRepository } from '#shared/control/tenant-repository';
import type { Caller } from '#shared/domain/caller';
import {
  ALL_PERMISSIONS,
  BUILT_IN_ROLE_PERMISSIONS,
  type BuiltInRole,
  effectivePermissions,
  matrixToPermissions,
  type Permission,
  permissionMatrixSchema,
} from '#shared/domain/permissions';
import { DEFAULT_PLANS, type LimitOverrides, planSettingsFrom } from '#shared/domain/plans';
import { DomainError, Forbidden, NotFound } from '#shared/errors';

const T1 = 't_aaaaaaaaaaaaaaaaaaaa';
const T2 = 't_bbbbbbbbbbbbbbbbbbbb';
const UNKNOWN = 't_cccccccccccccccccccc';

const caller = (userId: string, groups: Caller['groups'] = []): Caller => ({
  userId,
  email: `${userId}@example.com`,
  emailVerified: true,
  groups,
  activeTenantId: null,
});

/** The two repository calls the policy makes, over an in-memory control database. */
class FakeDirectory {
  readonly tenants = new Map<string, TenantStatus>();
  readonly members = new Map<string, { role: BuiltInRole; customPermissions: Permission[] }>();
  /** Every tenant's plan (one is enough here). */
  plan: { plan: string; planOverrides: LimitOverrides } = { plan: 'free', planOverrides: {} };
  accessCalls = 0;
  tenantCalls = 0;

  setTenant(tenantId: string, status: TenantStatus = 'active') {
    this.tenants.set(tenantId, status);
  }
  setMember(tenantId: string, userId: string, role: BuiltInRole, customPermissions: Permission[] = []) {
    this.members.set(`${tenantId}|${userId}`, { role, customPermissions });
  }
  removeMember(tenantId: string, userId: string) {
    this.members.delete(`${tenantId}|${userId}`);
  }

  async accessOf(userId: string, tenantId: string): Promise<TenantAccessRecord | null> {
    this.accessCalls += 1;
    const status = this.tenants.get(tenantId);
    const member = this.members.get(`${tenantId}|${userId}`);
    return status && member ? { status, ...this.plan, ...member, roleFrom: tenantId } : null;
  }

  async get(tenantId: string) {
    this.tenantCalls += 1;
    const status = this.tenants.get(tenantId);
    return status ? { id: tenantId, status, ...this.plan } : null;
  }
}

describe('ControlTenantAccess', () => {
  let directory: FakeDirectory;
  let now: number;
  let policy: ControlTenantAccess;

  beforeEach(() => {
    directory = new FakeDirectory();
    now = 1_000_000;
    policy = new ControlTenantAccess(directory, directory as unknown as TenantRepository, () => now);
    directory.setTenant(T1);
    directory.setTenant(T2);
  });

  const outcome = async (who: Caller, tenantId: string, permission: Permission) => {
    try {
      const grant = await policy.authorize(who, tenantId, permission);
      return { ok: grant.role };
    } catch (error) {
      if (error instanceof DomainError) {
        return {
          error: error.constructor.name,
          code: error.code,
          status: error.statusCode,
          message: error.message,
        };
      }
      throw error;
    }
  };

  it("a grant carries the tenant's plan and effective limits, a platform admin's too", async () => {
    // Arrange: a deployment whose standard plan allows 7 databases; the tenant has 3 members more.
    const plans = planSettingsFrom(JSON.stringify({ plans: { standard: { databases: 7 } } }));
    policy = new ControlTenantAccess(
      directory,
      directory as unknown as TenantRepository,
      () => now,
      0,
      plans,
    );
    directory.plan = { plan: 'standard', planOverrides: { members: 103 } };
    directory.setMember(T1, 'u1', 'viewer');
    // Act
    const member = await policy.authorize(caller('u1'), T1, 'tenant:read');
    const admin = await policy.authorize(caller('staff', ['platform-admin']), T2, 'tenant:read');
    // Assert
    for (const grant of [member, admin]) {
      expect(grant.plan).toBe('standard');
      expect(grant.limits).toEqual({ ...DEFAULT_PLANS.standard, databases: 7, members: 103 });
    }
  });

  it('the cache bound is the 30 s the design allows', () => {
    expect(ACCESS_CACHE_MS).toBe(30_000);
  });

  describe('caching', () => {
    it('reuses an answer within 30 s, so a change made elsewhere is not seen before then', async () => {
      directory.setMember(T1, 'u1', 'admin');
      await policy.authorize(caller('u1'), T1, 'members:write');
      directory.removeMember(T1, 'u1'); // removed by another instance
      now += ACCESS_CACHE_MS - 1;
      await expect(policy.authorize(caller('u1'), T1, 'members:write')).resolves.toMatchObject({
        role: 'admin',
      });
      expect(directory.accessCalls).toBe(1);
    });

    it('asks again once 30 s have passed, so a change on another instance takes effect within the bound', async () => {
      directory.setMember(T1, 'u1', 'admin');
      await policy.authorize(caller('u1'), T1, 'members:write');
      directory.removeMember(T1, 'u1');
      now += ACCESS_CACHE_MS;
      await expect(policy.authorize(caller('u1'), T1, 'members:write')).rejects.toBeInstanceOf(NotFound);
      expect(directory.accessCalls).toBe(2);
    });

    it('a demotion elsewhere also takes effect after 30 s', async () => {
      directory.setMember(T1, 'u1', 'admin');
      await policy.authorize(caller('u1'), T1, 'roles:write');
      directory.setMember(T1, 'u1', 'viewer');
      now += ACCESS_CACHE_MS + 1;
      await expect(policy.authorize(caller('u1'), T1, 'roles:write')).rejects.toBeInstanceOf(Forbidden);
    });

    it('caches a refusal too, and per tenant and user', async () => {
      await expect(policy.authorize(caller('u1'), T1, 'tenant:read')).rejects.toBeInstanceOf(NotFound);
      await expect(policy.authorize(caller('u1'), T1, 'tenant:read')).rejects.toBeInstanceOf(NotFound);
      expect(directory.accessCalls).toBe(1);
      await expect(policy.authorize(caller('u2'), T1, 'tenant:read')).rejects.toBeInstanceOf(NotFound);
      await expect(policy.authorize(caller('u1'), T2, 'tenant:read')).rejects.toBeInstanceOf(NotFound);
      expect(directory.accessCalls).toBe(3);
    });

    it('invalidate(tenantId, userId) forgets that member only', async () => {
      directory.setMember(T1, 'u1', 'admin');
      directory.setMember(T1, 'u2', 'admin');
      await policy.authorize(caller('u1'), T1, 'members:write');
      await policy.authorize(caller('u2'), T1, 'members:write');
      directory.removeMember(T1, 'u1');
      directory.removeMember(T1, 'u2');
      policy.invalidate(T1, 'u1');
      await expect(policy.authorize(caller('u1'), T1, 'members:write')).rejects.toBeInstanceOf(NotFound);
      await expect(policy.authorize(caller('u2'), T1, 'members:write')).resolves.toMatchObject({
        role: 'admin',
      });
      expect(directory.accessCalls).toBe(3);
    });

    it('invalidate(tenantId, userId) forgets that member in every tenant: a role may reach descendants', async () => {
      directory.setMember(T1, 'u1', 'admin');
      directory.setMember(T2, 'u1', 'admin');
      directory.setMember(T2, 'u2', 'admin');
      for (const [user, tenant] of [
        ['u1', T1],
        ['u1', T2],
        ['u2', T2],
      ] as const) {
        await policy.authorize(caller(user), tenant, 'members:write');
      }
      directory.removeMember(T2, 'u1');
      directory.removeMember(T2, 'u2');
      policy.invalidate(T1, 'u1');
      await expect(policy.authorize(caller('u1'), T2, 'members:write')).rejects.toBeInstanceOf(NotFound);
      await expect(policy.authorize(caller('u2'), T2, 'members:write')).resolves.toBeDefined();
      expect(directory.accessCalls).toBe(4);
    });

    it('invalidateAll() forgets every answer (a subtree moved)', async () => {
      directory.setMember(T1, 'u1', 'admin');
      directory.setMember(T2, 'u2', 'admin');
      await policy.authorize(caller('u1'), T1, 'members:write');
      await policy.authorize(caller('u2'), T2, 'members:write');
      policy.invalidateAll();
      await policy.authorize(caller('u1'), T1, 'members:write');
      await policy.authorize(caller('u2'), T2, 'members:write');
      expect(directory.accessCalls).toBe(4);
    });

    it('a refusal is forgotten at once when the user is invited on this instance', async () => {
      await expect(policy.authorize(caller('u1'), T1, 'tenant:read')).rejects.toBeInstanceOf(NotFound);
      directory.setMember(T1, 'u1', 'viewer');
      policy.invalidate(T1, 'u1');
      await expect(policy.authorize(caller('u1'), T1, 'tenant:read')).resolves.toMatchObject({
        role: 'viewer',
      });
    });

    it('invalidate(tenantId) forgets every member of that tenant and no other tenant', async () => {
      for (const tenant of [T1, T2]) {
        directory.setMember(tenant, 'u1', 'member');
        directory.setMember(tenant, 'u2', 'member');
      }
      for (const tenant of [T1, T2]) {
        for (const user of ['u1', 'u2']) await policy.authorize(caller(user), tenant, 'rows:write');
      }
      expect(directory.accessCalls).toBe(4);
      for (const tenant of [T1, T2]) {
        directory.setMember(tenant, 'u1', 'viewer');
        directory.setMember(tenant, 'u2', 'viewer');
      }
      policy.invalidate(T1);
      await expect(policy.authorize(caller('u1'), T1, 'rows:write')).rejects.toBeInstanceOf(Forbidden);
      await expect(policy.authorize(caller('u2'), T1, 'rows:write')).rejects.toBeInstanceOf(Forbidden);
      await expect(policy.authorize(caller('u1'), T2, 'rows:write')).resolves.toBeDefined();
      expect(directory.accessCalls).toBe(6);
    });

    it('invalidating one tenant does not touch a tenant whose id it prefixes', async () => {
      // Keys are `<tenant>|<user>`: the separator stops t_a… from matching t_a…x.
      directory.setMember(T1, 'u1', 'member');
      await policy.authorize(caller('u1'), T1, 'tables:read');
      policy.invalidate(T1.slice(0, -1));
      await policy.authorize(caller('u1'), T1, 'tables:read');
      expect(directory.accessCalls).toBe(1);
    });
  });

  describe('answers', () => {
    it('an unknown tenant and a foreign tenant give the same NotFound', async () => {
      directory.setMember(T2, 'u1', 'owner');
      const unknown = await outcome(caller('u1'), UNKNOWN, 'tenant:read');
      const foreign = await outcome(caller('u1'), T1, 'tenant:read');
      expect(unknown).toEqual({
        error: 'NotFound',
        code: 'not_found',
        status: 404,
        message: 'Tenant not found',
      });
      expect(foreign).toEqual(unknown);
    });

    it('a malformed tenant id is an unknown tenant and never reaches the directory', async () => {
      for (const bad of ['nope', '', 'T_AAAAAAAAAAAAAAAAAAAA', `${T1}\u0000`, `${T1}x`]) {
        expect(await outcome(caller('u1'), bad, 'tenant:read')).toMatchObject({ error: 'NotFound' });
        expect(await outcome(caller('admin', ['platform-admin']), bad, 'tenant:read')).toMatchObject({
          error: 'NotFound',
        });
      }
      expect(directory.accessCalls + directory.tenantCalls).toBe(0);
    });

    it('a member without the permission gets Forbidden naming it', async () => {
      directory.setMember(T1, 'u1', 'viewer');
      expect(await outcome(caller('u1'), T1, 'members:write')).toMatchObject({
        error: 'Forbidden',
        status: 403,
        message: expect.stringContaining('members:write'),
      });
      expect(await outcome(caller('u1'), T1, 'members:read')).toEqual({ ok: 'viewer' });
    });

    it.each(Object.keys(BUILT_IN_ROLE_PERMISSIONS) as BuiltInRole[])(
      'the %s role grants exactly its built-in set',
      async (role) => {
        directory.setMember(T1, 'u1', role);
        const grant = await policy.authorize(caller('u1'), T1, 'tenant:read');
        expect([...grant.permissions].sort()).toEqual([...BUILT_IN_ROLE_PERMISSIONS[role]].sort());
        expect(grant).toMatchObject({ tenantId: T1, role });
      },
    );

    it('custom permissions add to the built-in role, and nothing more', async () => {
      directory.setMember(T1, 'u1', 'viewer', ['members:write', 'audit:read']);
      const grant = await policy.authorize(caller('u1'), T1, 'members:write');
      expect([...grant.permissions].sort()).toEqual(
        [...BUILT_IN_ROLE_PERMISSIONS.viewer, 'members:write', 'audit:read'].sort(),
      );
      expect(await outcome(caller('u1'), T1, 'audit:read')).toEqual({ ok: 'viewer' });
      expect(await outcome(caller('u1'), T1, 'roles:write')).toMatchObject({ error: 'Forbidden' });
      expect(await outcome(caller('u1'), T1, 'members:delete')).toMatchObject({ error: 'Forbidden' });
    });

    it('a suspended tenant is TenantSuspended to every member, the owner included', async () => {
      directory.setTenant(T1, 'suspended');
      directory.setMember(T1, 'owner', 'owner');
      directory.setMember(T1, 'viewer', 'viewer');
      for (const who of ['owner', 'viewer']) {
        expect(await outcome(caller(who), T1, 'tenant:read')).toMatchObject({
          error: 'TenantSuspended',
          message: expect.stringContaining('suspended'),
        });
      }
    });

    it('a route open while suspended lets members through with a grant marked suspended', async () => {
      directory.setTenant(T1, 'suspended');
      directory.setMember(T1, 'viewer', 'viewer');
      const grant = await policy.authorize(caller('viewer'), T1, 'tenant:read', { whileSuspended: true });
      expect(grant).toMatchObject({ tenantId: T1, role: 'viewer', suspended: true });
      // Still only with the permission, and still 404 for a stranger.
      await expect(
        policy.authorize(caller('viewer'), T1, 'tenant:write', { whileSuspended: true }),
      ).rejects.toMatchObject({ name: 'Forbidden' });
      await expect(
        policy.authorize(caller('stranger'), T1, 'tenant:read', { whileSuspended: true }),
      ).rejects.toMatchObject({ name: 'NotFound' });
    });

    it('a platform admin acts as a tenant admin on any existing tenant, suspended ones included', async () => {
      const admin = caller('staff', ['platform-admin']);
      expect(await outcome(admin, T1, 'members:write')).toEqual({ ok: 'admin' });
      expect(await outcome(admin, T1, 'tenant:delete')).toMatchObject({ error: 'Forbidden' });
      directory.setTenant(T2, 'suspended');
      expect(await outcome(admin, T2, 'tenant:read')).toEqual({ ok: 'admin' });
      expect(await outcome(admin, UNKNOWN, 'tenant:read')).toMatchObject({ error: 'NotFound' });
    });

    it('a platform admin who is also a plain member of a tenant keeps admin rights there', async () => {
      directory.setMember(T1, 'staff', 'viewer');
      const admin = caller('staff', ['platform-admin']);
      expect(await outcome(admin, T1, 'members:write')).toEqual({ ok: 'admin' });
      expect(await outcome(caller('staff'), T2, 'members:write')).toMatchObject({ error: 'NotFound' });
    });

    it('a finance user is no platform admin', async () => {
      expect(await outcome(caller('money', ['finance']), T1, 'usage:read')).toMatchObject({
        error: 'NotFound',
      });
    });

    it.each(['deleted'] as const)(
      'a %s tenant is NotFound to everyone, platform admins included',
      async (status) => {
        directory.setTenant(T1, status);
        directory.setMember(T1, 'owner', 'owner');
        const unknown = await outcome(caller('owner'), UNKNOWN, 'tenant:read');
        expect(await outcome(caller('owner'), T1, 'tenant:read')).toEqual(unknown);
        expect(await outcome(caller('staff', ['platform-admin']), T1, 'tenant:read')).toMatchObject({
          error: 'NotFound',
        });
      },
    );

    it('a tenant being offboarded is Forbidden to members except for repeating the delete', async () => {
      directory.setTenant(T1, 'deleting');
      directory.setMember(T1, 'owner', 'owner');
      expect(await outcome(caller('owner'), T1, 'tenant:read')).toMatchObject({ error: 'Forbidden' });
      expect(await outcome(caller('owner'), T1, 'tenant:delete')).toEqual({ ok: 'owner' });
    });

    it.each(['provisioning', 'failed'] as const)('a %s tenant still answers its members', async (status) => {
      directory.setTenant(T1, status);
      directory.setMember(T1, 'owner', 'owner');
      expect(await outcome(caller('owner'), T1, 'tenant:read')).toEqual({ ok: 'owner' });
    });
  });
});

describe('permissions', () => {
  it('each resource has its own actions: tenants:createChild exists, tenants:read and rows:createChild do not', () => {
    expect(ALL_PERMISSIONS).toContain('tenants:createChild');
    expect(ALL_PERMISSIONS).not.toContain('tenants:read');
    expect(ALL_PERMISSIONS).not.toContain('rows:createChild');
    expect(permissionMatrixSchema.safeParse({ tenants: ['createChild'] }).success).toBe(true);
    expect(permissionMatrixSchema.safeParse({ tenants: ['read'] }).success).toBe(false);
    expect(permissionMatrixSchema.safeParse({ rows: ['createChild'] }).success).toBe(false);
    expect(matrixToPermissions({ tenants: ['createChild'], rows: ['read'] })).toEqual([
      'rows:read',
      'tenants:createChild',
    ]);
  });

  it('owners and admins create children; members and viewers do not', () => {
    expect(BUILT_IN_ROLE_PERMISSIONS.owner.has('tenants:createChild')).toBe(true);
    expect(BUILT_IN_ROLE_PERMISSIONS.admin.has('tenants:createChild')).toBe(true);
    expect(BUILT_IN_ROLE_PERMISSIONS.member.has('tenants:createChild')).toBe(false);
    expect(BUILT_IN_ROLE_PERMISSIONS.viewer.has('tenants:createChild')).toBe(false);
    // Members and viewers still read everything but the audit log, the backups and the compliance report.
    expect([...BUILT_IN_ROLE_PERMISSIONS.viewer].sort()).toEqual(
      ALL_PERMISSIONS.filter(
        (p) => p.endsWith(':read') && !['audit:read', 'backups:read', 'compliance:read'].includes(p),
      ).sort(),
    );
  });

  it('owners and admins read and write backups; members and viewers neither (issue 17)', () => {
    for (const role of ['owner', 'admin'] as const) {
      expect(BUILT_IN_ROLE_PERMISSIONS[role].has('backups:read')).toBe(true);
      expect(BUILT_IN_ROLE_PERMISSIONS[role].has('backups:write')).toBe(true);
    }
    for (const role of ['member', 'viewer'] as const) {
      expect(BUILT_IN_ROLE_PERMISSIONS[role].has('backups:read')).toBe(false);
      expect(BUILT_IN_ROLE_PERMISSIONS[role].has('backups:write')).toBe(false);
    }
    // A custom role may grant them; there is no `backups:delete` (retention deletes).
    expect(effectivePermissions('member', [['backups:read']]).has('backups:read')).toBe(true);
    expect(ALL_PERMISSIONS).not.toContain('backups:delete');
  });

  it('owners and admins read the compliance report; members and viewers do not, a custom role may grant it (issue 19)', () => {
    expect(BUILT_IN_ROLE_PERMISSIONS.owner.has('compliance:read')).toBe(true);
    expect(BUILT_IN_ROLE_PERMISSIONS.admin.has('compliance:read')).toBe(true);
    expect(BUILT_IN_ROLE_PERMISSIONS.member.has('compliance:read')).toBe(false);
    expect(BUILT_IN_ROLE_PERMISSIONS.viewer.has('compliance:read')).toBe(false);
    expect(effectivePermissions('viewer', [['compliance:read']]).has('compliance:read')).toBe(true);
    expect(permissionMatrixSchema.safeParse({ compliance: ['read'] }).success).toBe(true);
    expect(permissionMatrixSchema.safeParse({ compliance: ['write'] }).success).toBe(false);
  });
});
