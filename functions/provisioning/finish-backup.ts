import { backupStepDeps } from '#shared/composition/backup-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { finishBackup, finishBackupInput } from '#shared/tenancy/backup-steps';

/** Backup, last step: the tenant's configuration, the manifest (written last), the backup completed. */
export const handler = stepHandler('FinishBackup', finishBackupInput, async (input, services) =>
  finishBackup(backupStepDeps(services), input),
);
