import { moveStepDeps } from '#shared/composition/move-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { moveStepInput } from '#shared/provisioning/inputs';
import { freezeMoveWrites } from '#shared/provisioning/move-steps';

/** Move, step 3: row writes frozen on every source; reads go on. */
export const handler = stepHandler(
  'FreezeMoveWrites',
  moveStepInput,
  async ({ tenantId, moveId }, services) => freezeMoveWrites(moveStepDeps(services), tenantId, moveId),
);
