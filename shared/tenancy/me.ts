import type { TenantDirectory } from '#shared/control/tenant-directory';
import type { Caller } from '#shared/domain/caller';
import { NotFound } from '#shared/errors';

export async function describeMe(directory: TenantDirectory, caller: Caller) {
  const [memberships, active] = await Promise.all([
    directory.membershipsOf(caller.userId),
    directory.activeTenantOf(caller.userId),
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
export async function switchActiveTenant(directory: TenantDirectory, caller: Caller, tenantId: string) {
  await directory.upsertUser(caller.userId, caller.email);
  if (!(await directory.setActiveTenant(caller.userId, tenantId))) throw new NotFound('Tenant not found');
  return describeMe(directory, caller);
}
