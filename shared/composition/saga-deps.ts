import { lazily } from '#shared/composition/lazy';
import { services } from '#shared/composition/runtime';
import type { SagaDeps } from '#shared/provisioning/saga';

/** The saga's dependencies from the installed services, each made when a step first uses it. */
export function sagaDeps(): SagaDeps {
  const s = services();
  return lazily<SagaDeps>({
    tenants: () => s.tenants,
    memberships: () => s.memberships,
    databases: () => s.databases,
    clusters: () => s.clusters,
    secrets: () => s.secrets,
    stage: () => s.settings.stage,
    controlDatabase: () => s.settings.controlDatabase,
    tenantChanged: () => (tenantId: string) => s.tenantAccess.invalidate(tenantId),
    events: () => s.events,
  });
}
