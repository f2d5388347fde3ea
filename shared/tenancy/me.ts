import type { MembershipRepository } from '#shared/control/membership-repository';
import type { UserRepository } from '#shared/control/user-repository';
import type { Caller } from '#shared/domain/caller';
import { NotFound } from '#shared/errors';

export interface MeDeps {
  readonly users: UserRepository;
  readonly memberships: MembershipRepository;
}

export async function describeMe(deps: MeDeps, caller: Caller) {
  const [memberships, active] = await Promise.all([
    deps.memberships.ofUser(caller.userId),
    deps.users.activeTenantOf(caller.userId),
  ]);
  return {
    userId: caller.userId,
    email: caller.email,
    groups: [...caller.groups],
    activeTenantId: active?.tenantId ?? null,
    memberships: memberships.map(({ tenantId, tenantName, tenantStatus, role }) => ({
      tenantId,
      tenantName,
      tenantStatus,
      role,
    })),
  };
}

/** Switches the active tenant; a tenant the caller is not a member of answers like an unknown one. */
export async function switchActiveTenant(deps: MeDeps, caller: Caller, tenantId: string) {
  await deps.users.upsert(caller.userId, caller.email);
  if (!(await deps.users.setActiveTenant(caller.userId, tenantId))) throw new NotFound('Tenant not found');
  return describeMe(deps, caller);
}
