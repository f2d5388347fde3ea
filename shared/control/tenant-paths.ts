import type { TenantStatus } from '#shared/control/control-records';

/**
 * The deepest a tenant may sit: a root has depth 0, its children 1, …; a tenant at this depth
 * can have no children (so an organisation has at most six levels). docs/tenant-hierarchies.md.
 */
export const MAX_TENANT_DEPTH = 5;

/** How many children an answer names at most (a 409 that refuses to orphan them, the saga's refusal). */
export const MAX_NAMED_CHILDREN = 100;

/** The ids from the root down to the tenant. */
export const pathIds = (path: string): string[] => path.split('/');
export const depthOf = (path: string): number => pathIds(path).length - 1;

/** Every tenant id is `t_` and 20 characters: one path segment and its '/' are 23 characters. */
export const SEGMENT = 23;

/** A LIKE pattern for the strict descendants of `path` (`_` is a LIKE wildcard, and in every id). */
export const descendantsPattern = (path: string) => `${path.replaceAll('_', '\\_')}/%`;

export interface ChildRecord {
  readonly id: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly parentId: string;
  /** 1 for a child of the tenant listed, 2 for a grandchild, … */
  readonly depth: number;
  readonly createdAt: string;
}

export interface SubtreeMember {
  readonly id: string;
  readonly status: TenantStatus;
  readonly depth: number;
}
