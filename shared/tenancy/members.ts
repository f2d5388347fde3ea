import type { ControlTenantAccess } from '#shared/control/access-policy';
import type { MemberRecord } from '#shared/control/control-records';
import type { MembershipRepository } from '#shared/control/membership-repository';
import type { UserRepository } from '#shared/control/user-repository';
import { BUILT_IN_ROLE_PERMISSIONS, type BuiltInRole } from '#shared/domain/permissions';
import { Forbidden, NotFound } from '#shared/errors';
import type { IdentityAdmin } from '#shared/ports/identity-admin';
import type { TenantGrant } from '#shared/ports/tenant-access';

export interface MemberDeps {
  readonly users: UserRepository;
  readonly memberships: MembershipRepository;
  readonly identity: IdentityAdmin;
  readonly tenantAccess: ControlTenantAccess;
}

/**
 * Only an owner may make, unmake or remove an owner; and nobody may hand out, change or remove a
 * built-in role with rights they do not hold themselves (else members:write alone, from a custom
 * role, would let a viewer make themselves or an account of theirs an admin).
 */
export function assertMayTouchRoles(grant: TenantGrant, ...roles: (BuiltInRole | null)[]): void {
  if (roles.includes('owner') && grant.role !== 'owner') {
    throw new Forbidden('Only an owner can grant, change or remove the owner role');
  }
  for (const role of roles) {
    if (!role) continue;
    const missing = [...BUILT_IN_ROLE_PERMISSIONS[role]].filter((p) => !grant.permissions.has(p));
    if (missing.length > 0) {
      throw new Forbidden(`The ${role} role has permissions you do not hold: ${missing.join(', ')}`, {
        missing,
      });
    }
  }
}

export async function changeMemberRole(
  deps: MemberDeps,
  grant: TenantGrant,
  userId: string,
  role: BuiltInRole,
): Promise<MemberRecord> {
  const current = await deps.memberships.get(grant.tenantId, userId);
  if (!current) throw new NotFound('Member not found');
  assertMayTouchRoles(grant, current.role, role);
  await deps.memberships.change(grant.tenantId, userId, role);
  deps.tenantAccess.invalidate(grant.tenantId, userId);
  return { ...current, role };
}

export async function removeMember(deps: MemberDeps, grant: TenantGrant, userId: string): Promise<void> {
  const current = await deps.memberships.get(grant.tenantId, userId);
  if (!current) throw new NotFound('Member not found');
  assertMayTouchRoles(grant, current.role);
  await deps.memberships.change(grant.tenantId, userId, null);
  deps.tenantAccess.invalidate(grant.tenantId, userId);
}

/** A grant can hand out only what it holds: no custom role wider than the caller's own rights. */
export function assertWithinGrant(grant: TenantGrant, permissions: Iterable<string>): void {
  const missing = [...permissions].filter((p) => !grant.permissions.has(p as never));
  if (missing.length > 0) {
    throw new Forbidden(`You cannot grant permissions you do not hold: ${missing.join(', ')}`, { missing });
  }
}
