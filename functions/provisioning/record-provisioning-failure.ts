import { sagaDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { provisioningFailureInput, provisioningFailureReason } from '#shared/provisioning/inputs';
import { recordProvisioningFailure } from '#shared/provisioning/saga';

/** After a failed compensation: the database and tenant become `failed`, with both errors' names. */
export const handler = stepHandler(
  'RecordProvisioningFailure',
  provisioningFailureInput,
  async ({ tenantId, databaseId, error, compensationError, restore }, services) =>
    recordProvisioningFailure(
      sagaDeps(services),
      tenantId,
      databaseId,
      provisioningFailureReason(error, compensationError, restore !== undefined),
    ),
);
