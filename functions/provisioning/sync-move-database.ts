import { moveStepDeps } from '#shared/composition/move-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { moveDatabaseStepInput } from '#shared/provisioning/inputs';
import { syncMoveDatabase } from '#shared/provisioning/move-steps';

/** Move, step 4 (each database): the copy brought level with the frozen source, and verified. */
export const handler = stepHandler(
  'SyncMoveDatabase',
  moveDatabaseStepInput,
  async ({ tenantId, moveId, databaseId }, services) =>
    syncMoveDatabase(moveStepDeps(services), tenantId, moveId, databaseId),
);
