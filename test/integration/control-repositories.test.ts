import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CustomRoleRepository } from '#shared/control/custom-role-repository';
import { newRoleId, newTenantId } from '#shared/control/ids';
import { MembershipRepository } from '#shared/control/membership-repository';
import { TenantRepository } from '#shared/control/tenant-repository';
import { UserRepository } from '#shared/control/user-repository';
import { SqlConstraintViolation } from '#shared/ports/sql';
import { createControlDatabase, type TempDatabase } from '../support/tenancy.ts';

/**
 * Writes that span aggregates (a tenant with its owner, an invitation, offboarding) compose the
 * other repositories on one transaction: they stand or fall together, also inside a caller's.
 */

const info = inject('platform');
let db: TempDatabase;
let users: UserRepository;
let tenants: TenantRepository;
let members: MembershipRepository;
let roles: CustomRoleRepository;

beforeAll(async () => {
  db = await createControlDatabase(info, 'repositories');
  users = new UserRepository(db.runner);
  tenants = new TenantRepository(db.runner);
  members = new MembershipRepository(db.runner);
  roles = new CustomRoleRepository(db.runner);
});

afterAll(async () => {
  await db.drop();
});

const newUser = () => {
  const userId = randomUUID();
  return { userId, email: `repo-${userId.slice(0, 8)}@example.com` };
};

const activeTenantIdOf = async (userId: string) => {
  const [row] = await db.runner.query<{ activeTenantId: string | null }>(
    'select active_tenant_id as "activeTenantId" from users where id = :userId',
    { userId },
  );
  return row?.activeTenantId;
};

describe('control repositories: one transaction across aggregates', () => {
  it('a tenant created in a transaction that then fails leaves no tenant, owner or membership', async () => {
    const owner = newUser();
    const tenantId = newTenantId();

    const attempt = db.runner.transaction(async (tx) => {
      await new TenantRepository(tx).create({
        tenantId,
        name: 'Doomed',
        settings: {},
        owner,
        status: 'active',
      });
      throw new Error('the database record was refused');
    });

    await expect(attempt).rejects.toThrow('the database record was refused');
    expect(await tenants.get(tenantId)).toBeNull();
    expect(await users.findByEmail(owner.email)).toBeNull();
    expect(await members.ofUser(owner.userId)).toEqual([]);
  });

  it('a created tenant has its owner as a user, an owner membership, and is the owner’s active tenant', async () => {
    const owner = newUser();
    const tenantId = newTenantId();

    const tenant = await tenants.create({
      tenantId,
      name: 'Acme',
      settings: { a: 1 },
      owner,
      status: 'active',
    });

    expect(tenant).toMatchObject({ id: tenantId, name: 'Acme', settings: { a: 1 }, createdBy: owner.userId });
    expect(await users.findByEmail(owner.email)).toEqual(owner);
    expect(await members.get(tenantId, owner.userId)).toMatchObject({ role: 'owner', customRoles: [] });
    expect(await activeTenantIdOf(owner.userId)).toBe(tenantId);
  });

  it('an invitation whose membership is refused records no user either', async () => {
    const invited = newUser();

    const attempt = members.add(newTenantId(), invited, 'viewer');

    await expect(attempt).rejects.toBeInstanceOf(SqlConstraintViolation);
    expect(await users.findByEmail(invited.email)).toBeNull();
  });

  it('offboarding removes memberships and custom roles and clears every active tenant pointing there', async () => {
    const owner = newUser();
    const member = newUser();
    const tenantId = newTenantId();
    await tenants.create({ tenantId, name: 'Leaving', settings: {}, owner, status: 'active' });
    await members.add(tenantId, member, 'viewer');
    expect(await users.setActiveTenant(member.userId, tenantId)).toBe(true);
    const roleId = newRoleId();
    await roles.save(tenantId, roleId, 'Auditor', ['audit:read'], 'create');
    await roles.assign(tenantId, member.userId, roleId);

    await members.removeAll(tenantId);

    expect((await members.list(tenantId, 10, undefined)).items).toEqual([]);
    expect((await roles.list(tenantId, 10, undefined)).items).toEqual([]);
    expect(await activeTenantIdOf(owner.userId)).toBeNull();
    expect(await activeTenantIdOf(member.userId)).toBeNull();
    expect(await tenants.get(tenantId)).toMatchObject({ id: tenantId, status: 'active' });
  });
});
