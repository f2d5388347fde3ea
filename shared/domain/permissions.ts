import * as z from 'zod';

/** What a tenant role can act on. */
export const RESOURCES = [
  'tenant',
  'members',
  'roles',
  'databases',
  'tables',
  'rows',
  'modules',
  'audit',
  'usage',
] as const;
export const ACTIONS = ['read', 'write', 'delete'] as const;

export const resourceSchema = z.enum(RESOURCES);
export const actionSchema = z.enum(ACTIONS);
export type Resource = z.infer<typeof resourceSchema>;
export type Action = z.infer<typeof actionSchema>;
export type Permission = `${Resource}:${Action}`;

export const ALL_PERMISSIONS: readonly Permission[] = RESOURCES.flatMap((resource) =>
  ACTIONS.map((action) => `${resource}:${action}` as Permission),
);

export const permissionSchema = z.custom<Permission>(
  (value) => typeof value === 'string' && (ALL_PERMISSIONS as readonly string[]).includes(value),
  { message: `must be one of ${ALL_PERMISSIONS.join(', ')}` },
);

/**
 * A permission matrix as clients send it: `{ rows: ['read', 'write'], tables: ['read'] }`.
 * Unknown resources and actions are rejected (strict object, enum actions).
 */
export const permissionMatrixSchema = z
  .strictObject(
    Object.fromEntries(RESOURCES.map((r) => [r, z.array(actionSchema).max(ACTIONS.length).optional()])) as {
      [R in Resource]: z.ZodOptional<z.ZodArray<typeof actionSchema>>;
    },
  )
  .refine((matrix) => Object.values(matrix).some((actions) => actions && actions.length > 0), {
    message: 'grant at least one permission',
  });
export type PermissionMatrix = z.infer<typeof permissionMatrixSchema>;

export function matrixToPermissions(matrix: PermissionMatrix): Permission[] {
  const out = new Set<Permission>();
  for (const resource of RESOURCES) {
    for (const action of matrix[resource] ?? []) out.add(`${resource}:${action}`);
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

const all = (resource: Resource): Permission[] =>
  ACTIONS.map((action) => `${resource}:${action}` as Permission);
const readOnly = RESOURCES.filter((r) => r !== 'audit').map((r) => `${r}:read` as Permission);

export const BUILT_IN_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export const builtInRoleSchema = z.enum(BUILT_IN_ROLES);
export type BuiltInRole = z.infer<typeof builtInRoleSchema>;

/** Built-in roles as named permission sets. Only an owner can delete (offboard) the tenant. */
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
