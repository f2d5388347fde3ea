import { cloneStepDeps } from '#shared/composition/clone-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { finishClone } from '#shared/provisioning/clone-steps';
import { cloneStepInput } from '#shared/provisioning/inputs';

/** Clone, last step: module records for the copies, and the tenant becomes active. */
export const handler = stepHandler('FinishClone', cloneStepInput, async ({ tenantId, backupId }, services) =>
  finishClone(cloneStepDeps(services), tenantId, backupId),
);
