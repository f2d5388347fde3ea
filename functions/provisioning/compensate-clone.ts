import { cloneStepDeps } from '#shared/composition/clone-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { compensateClone } from '#shared/provisioning/clone-steps';
import { cloneCompensationInput, provisioningFailureReason } from '#shared/provisioning/inputs';

/** A failed clone: what was made for it goes, and the tenant and the backup are marked failed. */
export const handler = stepHandler(
  'CompensateClone',
  cloneCompensationInput,
  async ({ tenantId, backupId, error }, services) =>
    compensateClone(cloneStepDeps(services), tenantId, backupId, provisioningFailureReason(error)),
);
