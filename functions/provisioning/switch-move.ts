import { moveStepDeps } from '#shared/composition/move-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { moveStepInput } from '#shared/provisioning/inputs';
import { switchMove } from '#shared/provisioning/move-steps';

/** Move, step 5: every database of the move names its copy, in one transaction. */
export const handler = stepHandler('SwitchMove', moveStepInput, async ({ tenantId, moveId }, services) =>
  switchMove(moveStepDeps(services), tenantId, moveId),
);
