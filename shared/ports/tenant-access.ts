import type { Caller } from '#shared/domain/caller';
import type { BuiltInRole, Permission } from '#shared/domain/permissions';

/** What the caller may do in one tenant, once their membership has been checked. */
export interface TenantGrant {
  readonly tenantId: string;
  readonly role: BuiltInRole;
  readonly permissions: ReadonlySet<Permission>;
}

/**
 * Decides whether a caller may use `permission` in `tenantId`. Implementations throw `NotFound`
 * for unknown and foreign tenants alike, and `Forbidden` for a member without the permission or a
 * suspended tenant.
 */
export interface TenantAccessPolicy {
  authorize(caller: Caller, tenantId: string, permission: Permission): Promise<TenantGrant>;
}
