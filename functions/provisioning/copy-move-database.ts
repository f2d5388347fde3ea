import { moveStepDeps } from '#shared/composition/move-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { moveDatabaseStepInput } from '#shared/provisioning/inputs';
import { copyMoveDatabase } from '#shared/provisioning/move-steps';

/** Move, step 2 (each database): the copy made on the target and filled while the tenant writes. */
export const handler = stepHandler(
  'CopyMoveDatabase',
  moveDatabaseStepInput,
  async ({ tenantId, moveId, databaseId }, services) =>
    copyMoveDatabase(moveStepDeps(services), tenantId, moveId, databaseId),
);
