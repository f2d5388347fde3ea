import { lazily } from '#shared/composition/lazy';
import type { Services } from '#shared/composition/services';
import type { BackupStepDeps } from '#shared/tenancy/backup-steps';
import type { BackupDeps } from '#shared/tenancy/backups';

/** The backup routes' dependencies, each made on first use (the list route starts no workflow). */
export function backupDeps(s: Services): BackupDeps {
  return lazily<BackupDeps>({
    control: () => s.control,
    tenants: () => s.tenants,
    databases: () => s.databases,
    workflows: () => s.workflows,
  });
}

/** The backup steps' dependencies: only BackupDatabase reaches a tenant database (clusters). */
export function backupStepDeps(s: Services): BackupStepDeps {
  return lazily<BackupStepDeps>({
    control: () => s.control,
    tenants: () => s.tenants,
    databases: () => s.databases,
    clusters: () => s.clusters,
    customRoles: () => s.customRoles,
    store: () => s.backupStore,
    settings: () => s.settings,
  });
}
