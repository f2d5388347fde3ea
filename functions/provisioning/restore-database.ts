import { stepHandler } from '#shared/composition/step-handler';
import { BackupRepository } from '#shared/control/backup-repository';
import { ModuleRegistry } from '#shared/modules/registry';
import { restoreStepInput } from '#shared/provisioning/inputs';
import { restoreBackupInto } from '#shared/provisioning/restore-step';

/** Provisioning step 5 of a restore: the backup's tables into the new database, verified. */
export const handler = stepHandler(
  'RestoreDatabase',
  restoreStepInput,
  async ({ tenantId, databaseId, restore }, services) =>
    restoreBackupInto(
      {
        databases: services.databases,
        clusters: services.clusters,
        backupStore: services.backupStore,
        modules: new ModuleRegistry(services.control),
        backups: new BackupRepository(services.control),
      },
      tenantId,
      databaseId,
      restore,
    ),
);
