import { moveStepDeps } from '#shared/composition/move-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { moveStepInput } from '#shared/provisioning/inputs';
import { planMove } from '#shared/provisioning/move-steps';

/** Move, step 1: the move's databases, still to be copied. */
export const handler = stepHandler('PlanMove', moveStepInput, async ({ tenantId, moveId }, services) =>
  planMove(moveStepDeps(services), tenantId, moveId),
);
