import * as z from 'zod';
import { cursorText } from '#shared/control/keyset';
import type { Isolation } from '#shared/domain/isolation';
import type { BuiltInRole, Permission } from '#shared/domain/permissions';
import type { LimitOverrides } from '#shared/domain/plans';

export const TENANT_STATUSES = [
  'provisioning',
  'active',
  'suspended',
  'deleting',
  'deleted',
  'failed',
] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export interface TenantRecord {
  readonly id: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly statusReason: string | null;
  readonly settings: Record<string, unknown>;
  readonly enabledModules: string[];
  /** Its plan's name, and its own limits on top (shared/domain/plans.ts). */
  readonly plan: string;
  readonly planOverrides: LimitOverrides;
  /** Where its data lives: databases of its own, or schemas in a shared pool database. */
  readonly isolation: Isolation;
  /** Its parent tenant (null for a root), and the ids from its root down to itself, '/'-joined. */
  readonly parentId: string | null;
  readonly path: string;
  /** Whether roles held in its ancestors apply to it (docs/tenant-hierarchies.md). */
  readonly inheritAccess: boolean;
  /** The cluster its new databases go to, set by a platform admin (docs/clusters.md); null: placement decides. */
  readonly pinnedClusterId: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface MembershipOfUser {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly tenantStatus: TenantStatus;
  readonly role: BuiltInRole;
}

export interface MemberRecord {
  readonly userId: string;
  readonly email: string;
  readonly role: BuiltInRole;
  readonly customRoles: { id: string; name: string }[];
  readonly joinedAt: string;
  /** Listed with `inherited=true`: the ancestor whose membership gives this role. */
  readonly inheritedFrom?: string;
}

export interface CustomRoleRecord {
  readonly id: string;
  readonly name: string;
  readonly permissions: Permission[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface TenantAccessRecord {
  readonly status: TenantStatus;
  readonly plan: string;
  readonly planOverrides: LimitOverrides;
  /** The strongest role the user holds in the tenant or an ancestor whose roles apply to it. */
  readonly role: BuiltInRole;
  /** Where that role is held: the tenant itself, or the ancestor it is inherited from. */
  readonly roleFrom: string;
  readonly customPermissions: Permission[];
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export const TENANT_COLUMNS = `id, name, status, status_reason as "statusReason", settings, enabled_modules as "enabledModules",
  plan, plan_overrides as "planOverrides", isolation, parent_id as "parentId", path, inherit_access as "inheritAccess",
  pinned_cluster_id as "pinnedClusterId", created_by as "createdBy", created_at as "createdAt", updated_at as "updatedAt"`;

/** A member (`m` memberships, `u` users) with the custom roles assigned to them. */
export const MEMBER_COLUMNS = `u.id as "userId", u.email, m.role, m.created_at as "joinedAt",
  coalesce((select jsonb_agg(jsonb_build_object('id', cr.id, 'name', cr.name) order by cr.name)
              from role_assignments ra join custom_roles cr on cr.id = ra.role_id
             where ra.tenant_id = m.tenant_id and ra.user_id = m.user_id), '[]'::jsonb) as "customRoles"`;

export const CUSTOM_ROLE_COLUMNS = `id, name, permissions, created_at as "createdAt", updated_at as "updatedAt"`;

/** A `(lower(name or email), id)` keyset position: members sort by email, custom roles by name. */
export const nameCursor = z.tuple([cursorText, cursorText]);
