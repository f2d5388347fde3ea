import { backupStepDeps } from '#shared/composition/backup-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { failBackup, failBackupInput } from '#shared/tenancy/backup-steps';

/** Backup, on any failure: the backup failed with a reason, and every object under its prefix deleted. */
export const handler = stepHandler('FailBackup', failBackupInput, async (input, services) =>
  failBackup(backupStepDeps(services), input),
);
