import { sagaDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { compensationInput, provisioningFailureReason } from '#shared/provisioning/inputs';
import { compensateProvisioning } from '#shared/provisioning/saga';

/** Compensation: removes what the failed run made and records why. */
export const handler = stepHandler(
  'CompensateProvisioning',
  compensationInput,
  async ({ tenantId, databaseId, error, restore }, services) =>
    compensateProvisioning(
      sagaDeps(services),
      tenantId,
      databaseId,
      provisioningFailureReason(error, undefined, restore !== undefined),
    ),
);
