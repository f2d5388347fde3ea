import { sagaDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { activationStepInput } from '#shared/provisioning/inputs';
import { activateDatabase } from '#shared/provisioning/saga';

/** Provisioning step 5: the database, and for the first one the tenant, becomes active. */
export const handler = stepHandler(
  'ActivateDatabase',
  activationStepInput,
  async ({ tenantId, databaseId, activateTenant }, services) =>
    activateDatabase(sagaDeps(services), tenantId, databaseId, activateTenant !== false),
);
