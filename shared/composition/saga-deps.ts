import type { Services } from '#shared/composition/services';
import type { SagaDeps } from '#shared/provisioning/saga';

/** The saga's dependencies from the function's services. */
export function sagaDeps(s: Services): SagaDeps {
  return {
    tenants: s.tenants,
    memberships: s.memberships,
    databases: s.databases,
    clusters: s.clusters,
    secrets: s.secrets,
    stage: s.settings.stage,
    controlDatabase: s.settings.controlDatabase,
    tenantChanged: (tenantId) => s.tenantAccess.invalidate(tenantId),
    events: s.events,
  };
}
