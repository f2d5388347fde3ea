import { lazily } from '#shared/composition/lazy';
import type { Services } from '#shared/composition/services';
import { TenantHierarchy } from '#shared/control/tenant-hierarchy';
import type { HierarchyDeps } from '#shared/tenancy/hierarchy';

/**
 * The hierarchy's repository on the function's control database. Not one of the shared services:
 * only the functions that read or change the tree bundle it.
 */
export const hierarchyOf = (s: Services): TenantHierarchy => new TenantHierarchy(s.control);

/** What listing children and moving a tenant use. */
export function hierarchyDeps(s: Services): HierarchyDeps {
  return lazily<HierarchyDeps>({
    tenants: () => s.tenants,
    hierarchy: () => hierarchyOf(s),
    tenantAccess: () => s.tenantAccess,
    events: () => s.events,
  });
}
