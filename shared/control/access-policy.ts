import type { TenantAccessRecord } from '#shared/control/control-records';
import { TENANT_ID_PATTERN } from '#shared/control/ids';
import type { MembershipRepository } from '#shared/control/membership-repository';
import type { TenantRepository } from '#shared/control/tenant-repository';
import type { Caller } from '#shared/domain/caller';
import { effectivePermissions, type Permission } from '#shared/domain/permissions';
import { DEFAULT_PLAN_SETTINGS, effectiveLimits, type PlanSettings } from '#shared/domain/plans';
import { Forbidden, NotFound, TenantSuspended } from '#shared/errors';
import type { AuthorizeOptions, TenantAccessPolicy, TenantGrant } from '#shared/ports/tenant-access';

/** How long a membership answer may be reused. The design allows at most 30 s. */
export const ACCESS_CACHE_MS = 30_000;

/**
 * The tenant boundary: a `{tenantId}` from a path is checked against the caller's membership in
 * the control database, never against the path or the token alone. Unknown and foreign tenants
 * give the same 404; a member without the permission, or of a tenant being offboarded, a 403; any
 * member of a suspended tenant a 403 `tenant_suspended`, except on routes open while suspended.
 * Platform admins act as a tenant admin on any tenant that still exists, suspended included.
 */
export class ControlTenantAccess implements TenantAccessPolicy {
  readonly #cache = new Map<string, { record: TenantAccessRecord | null; at: number }>();

  constructor(
    private readonly memberships: Pick<MembershipRepository, 'accessOf'>,
    private readonly tenants: Pick<TenantRepository, 'get'>,
    private readonly now: () => number = Date.now,
    /** How long an answer is reused here; never more than the design's 30 s. */
    private readonly cacheMs: number = ACCESS_CACHE_MS,
    /** The deployment's plans: a grant carries the tenant's effective limits. */
    private readonly plans: PlanSettings = DEFAULT_PLAN_SETTINGS,
  ) {}

  async authorize(
    caller: Caller,
    tenantId: string,
    permission: Permission,
    options: AuthorizeOptions = {},
  ): Promise<TenantGrant> {
    // A path segment that cannot be a tenant id is an unknown tenant; it never reaches SQL.
    if (!TENANT_ID_PATTERN.test(tenantId)) throw new NotFound('Tenant not found');
    const record = await this.#lookup(caller, tenantId);
    if (!record || record.status === 'deleted') throw new NotFound('Tenant not found');
    const isPlatformAdmin = caller.groups.includes('platform-admin');
    // Offboarding suspends at once; only repeating the (idempotent) delete stays open to owners.
    const offboarding = record.status === 'deleting' && permission !== 'tenant:delete';
    const suspended = record.status === 'suspended';
    if (offboarding && !isPlatformAdmin) throw new Forbidden('This tenant is being offboarded');
    if (suspended && !isPlatformAdmin && !options.whileSuspended) {
      throw new TenantSuspended('This tenant is suspended');
    }
    // A platform admin acts as a tenant admin everywhere, also where they are a plain member.
    const role = isPlatformAdmin && record.role !== 'owner' ? 'admin' : record.role;
    const permissions = effectivePermissions(role, [record.customPermissions]);
    if (!permissions.has(permission)) throw new Forbidden(`Missing permission ${permission}`);
    const limits = effectiveLimits(this.plans, record.plan, record.planOverrides);
    return { tenantId, role, permissions, suspended, plan: record.plan, limits };
  }

  /**
   * Drops cached answers after a change: a tenant's state (every member's answer for it), or one
   * member's roles, which may reach every descendant of the tenant (so all of that user's answers
   * go). Other processes see the change when their answers expire (≤ 30 s).
   */
  invalidate(tenantId: string, userId?: string): void {
    for (const key of this.#cache.keys()) {
      if (userId === undefined ? key.startsWith(`${tenantId}|`) : key.endsWith(`|${userId}`)) {
        this.#cache.delete(key);
      }
    }
  }

  /** A tenant moved, or cut or restored its inheritance: any answer in its subtree may change. */
  invalidateAll(): void {
    this.#cache.clear();
  }

  async #lookup(caller: Caller, tenantId: string): Promise<TenantAccessRecord | null> {
    const key = `${tenantId}|${caller.userId}`;
    const cached = this.#cache.get(key);
    if (cached && this.now() - cached.at < Math.min(this.cacheMs, ACCESS_CACHE_MS)) return cached.record;
    let record = await this.memberships.accessOf(caller.userId, tenantId);
    if (!record && caller.groups.includes('platform-admin')) {
      const tenant = await this.tenants.get(tenantId);
      record = tenant
        ? {
            status: tenant.status,
            plan: tenant.plan,
            planOverrides: tenant.planOverrides,
            role: 'admin',
            roleFrom: tenantId,
            customPermissions: [],
          }
        : null;
    }
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(key, { record, at: this.now() });
    return record;
  }
}
