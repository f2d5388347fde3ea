import { backupStepDeps } from '#shared/composition/backup-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { backupStepInput, planBackup } from '#shared/tenancy/backup-steps';

/** Backup, step 1: the databases to back up, each still active. */
export const handler = stepHandler('PlanBackup', backupStepInput, async (input, services) =>
  planBackup(backupStepDeps(services), input),
);
