import type { Caller } from '#shared/domain/caller';
import type { BuiltInRole, Permission } from '#shared/domain/permissions';
import type { Limits } from '#shared/domain/plans';

/** What the caller may do in one tenant, once their membership has been checked. */
export interface TenantGrant {
  readonly tenantId: string;
  readonly role: BuiltInRole;
  readonly permissions: ReadonlySet<Permission>;
  /** The tenant is suspended (a route open while suspended, or a platform admin): nothing is billed. */
  readonly suspended: boolean;
  /** The tenant's plan and its effective limits (plan and overrides), as of the membership answer. */
  readonly plan: string;
  readonly limits: Limits;
}

export interface AuthorizeOptions {
  /** Let members of a suspended tenant through (the route shows them the suspension). */
  readonly whileSuspended?: boolean;
}

/**
 * Decides whether a caller may use `permission` in `tenantId`. Implementations throw `NotFound`
 * for unknown and foreign tenants alike, `TenantSuspended` for a member of a suspended tenant, and
 * `Forbidden` for a member without the permission or a tenant being offboarded.
 */
export interface TenantAccessPolicy {
  authorize(
    caller: Caller,
    tenantId: string,
    permission: Permission,
    options?: AuthorizeOptions,
  ): Promise<TenantGrant>;
}
