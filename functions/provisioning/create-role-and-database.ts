import { sagaDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { databaseStepInput } from '#shared/provisioning/inputs';
import { createRoleAndDatabase } from '#shared/provisioning/saga';

/** Provisioning step 3: role, database, CONNECT revoked from PUBLIC. */
export const handler = stepHandler(
  'CreateRoleAndDatabase',
  databaseStepInput,
  async ({ tenantId, databaseId }, services) =>
    createRoleAndDatabase(sagaDeps(services), tenantId, databaseId),
);
