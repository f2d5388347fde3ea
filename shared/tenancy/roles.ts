import type { ControlTenantAccess } from '#shared/control/access-policy';
import type { CustomRoleRecord } from '#shared/control/control-records';
import { CustomRoleRepository } from '#shared/control/custom-role-repository';
import { derivedRoleId, newRoleId } from '#shared/control/ids';
import type { MembershipRepository } from '#shared/control/membership-repository';
import { matrixToPermissions, type PermissionMatrix, permissionsToMatrix } from '#shared/domain/permissions';
import { NotFound, ValidationFailed } from '#shared/errors';
import type { IdempotentAttempt } from '#shared/ports/idempotency';
import type { TenantGrant } from '#shared/ports/tenant-access';
import { assertWithinGrant } from '#shared/tenancy/members';
import {
  announceThresholds,
  type QuotaActor,
  SYSTEM_ACTOR,
  type ThresholdDeps,
} from '#shared/tenancy/quota-thresholds';
import { createWithinQuota, type QuotaDeps } from '#shared/tenancy/quotas';

export interface RoleDeps extends QuotaDeps, ThresholdDeps {
  readonly customRoles: CustomRoleRepository;
  readonly memberships: MembershipRepository;
  readonly tenantAccess: ControlTenantAccess;
}

export interface CustomRoleView {
  readonly id: string;
  readonly name: string;
  readonly permissions: PermissionMatrix;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const toRoleView = (role: CustomRoleRecord): CustomRoleView => ({
  id: role.id,
  name: role.name,
  permissions: permissionsToMatrix(role.permissions),
  createdAt: role.createdAt,
  updatedAt: role.updatedAt,
});

/** Deleting the tenant stays with its owners: no custom role can carry it. */
function permissionsOf(matrix: PermissionMatrix) {
  const permissions = matrixToPermissions(matrix);
  if (permissions.includes('tenant:delete')) {
    throw new ValidationFailed('tenant:delete is reserved for owners', {
      details: [
        {
          location: 'body',
          path: 'permissions.tenant',
          code: 'reserved',
          message: 'delete is reserved for owners',
        },
      ],
    });
  }
  return permissions;
}

/** The name goes to a text column: PostgreSQL refuses NUL characters. */
function assertStorableName(name: string): void {
  if (name.includes('\u0000')) {
    throw new ValidationFailed('Invalid body: name', {
      details: [
        {
          location: 'body',
          path: 'name',
          code: 'invalid_string',
          message: 'must not contain NUL characters',
        },
      ],
    });
  }
}

/**
 * Creates a custom role (no `roleId`) or replaces one. A role created under an Idempotency-Key is
 * named after its token, so that a re-run after an attempt that may have made it answers that
 * role (as it is now) instead of 409 for its name.
 */
export async function saveRole(
  deps: RoleDeps,
  grant: TenantGrant,
  input: { roleId?: string; name: string; permissions: PermissionMatrix },
  attempt: IdempotentAttempt | null = null,
  actor: QuotaActor = SYSTEM_ACTOR,
): Promise<CustomRoleView> {
  assertStorableName(input.name);
  const permissions = permissionsOf(input.permissions);
  assertWithinGrant(grant, permissions);
  const roleId = input.roleId ?? (attempt ? derivedRoleId(attempt.token) : newRoleId());
  if (!input.roleId && attempt?.rerun) {
    const earlier = await deps.customRoles.get(grant.tenantId, roleId);
    if (earlier) return toRoleView(earlier);
  }
  if (input.roleId) {
    const saved = await deps.customRoles.save(grant.tenantId, roleId, input.name, permissions, 'replace');
    // A replaced role changes what its holders may do: forget every cached answer of this tenant.
    deps.tenantAccess.invalidate(grant.tenantId);
    return toRoleView(saved);
  }
  const { result: created, use } = await createWithinQuota(deps, grant.tenantId, 'customRoles', (tx) =>
    new CustomRoleRepository(tx).save(grant.tenantId, roleId, input.name, permissions, 'create'),
  );
  await announceThresholds(deps, use, actor);
  return toRoleView(created);
}

export async function deleteRole(deps: RoleDeps, grant: TenantGrant, roleId: string): Promise<void> {
  if (!(await deps.customRoles.remove(grant.tenantId, roleId))) throw new NotFound('Role not found');
  deps.tenantAccess.invalidate(grant.tenantId);
}

export async function assignRole(
  deps: RoleDeps,
  grant: TenantGrant,
  userId: string,
  roleId: string,
): Promise<void> {
  const [role, member] = await Promise.all([
    deps.customRoles.get(grant.tenantId, roleId),
    deps.memberships.get(grant.tenantId, userId),
  ]);
  if (!role) throw new NotFound('Role not found');
  if (!member) throw new NotFound('Member not found');
  assertWithinGrant(grant, role.permissions);
  await deps.customRoles.assign(grant.tenantId, userId, roleId);
  deps.tenantAccess.invalidate(grant.tenantId, userId);
}

export async function unassignRole(
  deps: RoleDeps,
  grant: TenantGrant,
  userId: string,
  roleId: string,
): Promise<void> {
  if (!(await deps.customRoles.unassign(grant.tenantId, userId, roleId))) {
    throw new NotFound('This member does not hold this role');
  }
  deps.tenantAccess.invalidate(grant.tenantId, userId);
}
