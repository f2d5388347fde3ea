import { backupStepDeps } from '#shared/composition/backup-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { backupDatabaseInput, backupOneDatabase } from '#shared/tenancy/backup-steps';

/** Backup, per database: every table in one snapshot, as the tenant role, into the backup store. */
export const handler = stepHandler('BackupDatabase', backupDatabaseInput, async (input, services) =>
  backupOneDatabase(backupStepDeps(services), input),
);
