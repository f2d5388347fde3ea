import { hierarchyOf } from '#shared/composition/hierarchy-deps';
import { lazily } from '#shared/composition/lazy';
import type { Services } from '#shared/composition/services';
import { ModuleRegistry } from '#shared/modules/registry';
import type { SagaDeps } from '#shared/provisioning/saga';

/**
 * The saga's dependencies from the function's services, each made when a step first uses it: a
 * step declares only what it uses (most need no clusters, secrets or bus).
 */
export function sagaDeps(s: Services): SagaDeps {
  return lazily<SagaDeps>({
    tenants: () => s.tenants,
    memberships: () => s.memberships,
    databases: () => s.databases,
    hierarchy: () => hierarchyOf(s),
    clusters: () => s.clusters,
    clusterRegistry: () => s.clusterRegistry,
    secrets: () => s.secrets,
    stage: () => s.settings.stage,
    controlDatabase: () => s.settings.controlDatabase,
    tenantChanged: () => (tenantId: string) => s.tenantAccess.invalidate(tenantId),
    events: () => s.events,
    modules: () => new ModuleRegistry(s.control),
  });
}
