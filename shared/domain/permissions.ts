import * as z from 'zod';

/**
 * What a tenant role can act on, and how: most resources are read, written and deleted; a tenant
 * also creates child tenants under itself (`tenants:createChild`, docs/tenant-hierarchies.md);
 * backups are taken and restored (`backups:write`) and read or cloned from (`backups:read`);
 * expired ones are deleted by the retention job, not by a request (docs/backups.md).
 */
export const RESOURCE_ACTIONS = {
  tenant: ['read', 'write', 'delete'],
  tenants: ['createChild'],
  members: ['read', 'write', 'delete'],
  roles: ['read', 'write', 'delete'],
  databases: ['read', 'write', 'delete'],
  tables: ['read', 'write', 'delete'],
  rows: ['read', 'write', 'delete'],
  modules: ['read', 'write', 'delete'],
  audit: ['read', 'write', 'delete'],
  usage: ['read', 'write', 'delete'],
  backups: ['read', 'write'],
  /** The tenant's compliance report (docs/compliance.md): who has access, how data and audit are kept. */
  compliance: ['read'],
} as const satisfies Record<string, readonly [string, ...string[]]>;

export type Resource = keyof typeof RESOURCE_ACTIONS;
export type Action = (typeof RESOURCE_ACTIONS)[Resource][number];
export const RESOURCES = Object.keys(RESOURCE_ACTIONS) as Resource[];
export type Permission = { [R in Resource]: `${R}:${(typeof RESOURCE_ACTIONS)[R][number]}` }[Resource];

export const ALL_PERMISSIONS: readonly Permission[] = RESOURCES.flatMap((resource) =>
  RESOURCE_ACTIONS[resource].map((action) => `${resource}:${action}` as Permission),
);

export const permissionSchema = z.custom<Permission>(
  (value) => typeof value === 'string' && (ALL_PERMISSIONS as readonly string[]).includes(value),
  { message: `must be one of ${ALL_PERMISSIONS.join(', ')}` },
);

const actionsOf = <R extends Resource>(resource: R) => {
  const actions = RESOURCE_ACTIONS[resource];
  return z.array(z.enum(actions as unknown as [Action, ...Action[]])).max(actions.length);
};

/**
 * A permission matrix as clients send it: `{ rows: ['read', 'write'], tables: ['read'] }`.
 * Unknown resources and actions are rejected (strict object, each resource's own actions).
 */
export const permissionMatrixSchema = z
  .strictObject(
    // fromEntries loses the keys' types; each entry is the resource's own schema.
    Object.fromEntries(RESOURCES.map((r) => [r, actionsOf(r).optional()])) as unknown as {
      [R in Resource]: z.ZodOptional<
        z.ZodArray<z.ZodEnum<{ [A in (typeof RESOURCE_ACTIONS)[R][number]]: A }>>
      >;
    },
  )
  .refine((matrix) => Object.values(matrix).some((actions) => actions && actions.length > 0), {
    message: 'grant at least one permission',
  });
export type PermissionMatrix = z.infer<typeof permissionMatrixSchema>;

export function matrixToPermissions(matrix: PermissionMatrix): Permission[] {
  const out = new Set<Permission>();
  for (const resource of RESOURCES) {
    for (const action of matrix[resource] ?? []) out.add(`${resource}:${action}` as Permission);
  }
  return [...out].sort();
}

export function permissionsToMatrix(permissions: Iterable<Permission>): PermissionMatrix {
  const matrix: Partial<Record<Resource, Action[]>> = {};
  for (const permission of permissions) {
    const [resource, action] = permission.split(':') as [Resource, Action];
    const actions = matrix[resource] ?? [];
    actions.push(action);
    matrix[resource] = actions;
  }
  return matrix as PermissionMatrix;
}

const all = (resource: Resource): Permission[] => ALL_PERMISSIONS.filter((p) => p.startsWith(`${resource}:`));
/**
 * Every `read` but the audit log's, the backups' and the compliance report's: a backup holds every
 * row of every table, so reading one (or cloning the tenant from it) is an owner's or admin's, or a
 * custom role's grant; the compliance report lists every member's email, role and last sign-in
 * and the privileged changes of the audit log, so it is an owner's or admin's (or a custom role's).
 */
const readOnly = ALL_PERMISSIONS.filter(
  (p) => p.endsWith(':read') && p !== 'audit:read' && p !== 'backups:read' && p !== 'compliance:read',
);

export const BUILT_IN_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export const builtInRoleSchema = z.enum(BUILT_IN_ROLES);
export type BuiltInRole = z.infer<typeof builtInRoleSchema>;

/**
 * Built-in roles as named permission sets. Only an owner can delete (offboard) the tenant; owners
 * and admins create child tenants.
 */
export const BUILT_IN_ROLE_PERMISSIONS: Record<BuiltInRole, ReadonlySet<Permission>> = {
  owner: new Set(ALL_PERMISSIONS),
  admin: new Set(ALL_PERMISSIONS.filter((p) => p !== 'tenant:delete')),
  member: new Set<Permission>([...readOnly, ...all('tables'), ...all('rows')]),
  viewer: new Set<Permission>(readOnly),
};

/** Effective permissions: the built-in role's set joined with every assigned custom role's. */
export function effectivePermissions(
  role: BuiltInRole,
  customRolePermissions: Iterable<Iterable<Permission>> = [],
): Set<Permission> {
  const out = new Set(BUILT_IN_ROLE_PERMISSIONS[role]);
  for (const permissions of customRolePermissions) for (const p of permissions) out.add(p);
  return out;
}

export const PLATFORM_GROUPS = ['platform-admin', 'finance'] as const;
export const platformGroupSchema = z.enum(PLATFORM_GROUPS);
export type PlatformGroup = z.infer<typeof platformGroupSchema>;
