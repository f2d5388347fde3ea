import { moveStepDeps } from '#shared/composition/move-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { moveStepInput } from '#shared/provisioning/inputs';
import { finishMove } from '#shared/provisioning/move-steps';

/** Move, last step: the sources dropped, the tenant's role and secret fitted, the move's parts deleted. */
export const handler = stepHandler('FinishMove', moveStepInput, async ({ tenantId, moveId }, services) =>
  finishMove(moveStepDeps(services), tenantId, moveId),
);
