import { hierarchyOf } from '#shared/composition/hierarchy-deps';
import { lazily } from '#shared/composition/lazy';
import type { Services } from '#shared/composition/services';
import { BackupRepository } from '#shared/control/backup-repository';
import { OffboardingCertificates } from '#shared/control/offboarding-certificates';
import { ModuleRegistry } from '#shared/modules/registry';
import type { OffboardingDeps } from '#shared/provisioning/offboarding-certificate';
import type { SagaDeps } from '#shared/provisioning/saga';

/**
 * The saga's dependencies from the function's services, each made when a step first uses it: a
 * step declares only what it uses (most need no clusters, secrets or bus).
 */
export function sagaDeps(s: Services): SagaDeps {
  return lazily<SagaDeps>(sagaMakers(s));
}

/** The offboarding step's: the saga's, the certificates, and the tenant's backups and their store. */
export function offboardingDeps(s: Services): OffboardingDeps {
  return lazily<OffboardingDeps>({
    ...sagaMakers(s),
    certificates: () => new OffboardingCertificates(s.control),
    backups: () => new BackupRepository(s.control),
    backupStore: () => s.backupStore,
  });
}

function sagaMakers(s: Services): { readonly [K in keyof SagaDeps]: () => SagaDeps[K] } {
  return {
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
  };
}
