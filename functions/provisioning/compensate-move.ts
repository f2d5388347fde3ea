import { moveStepDeps } from '#shared/composition/move-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { moveCompensationInput } from '#shared/provisioning/inputs';
import { compensateMove } from '#shared/provisioning/move-steps';

/** A move that failed before its switch: the copies go, the sources take writes again. */
export const handler = stepHandler(
  'CompensateMove',
  moveCompensationInput,
  async ({ tenantId, moveId, error }, services) =>
    compensateMove(moveStepDeps(services), tenantId, moveId, `${error?.Error ?? 'Error'} during the move`),
);
