import { sagaDeps } from '#shared/composition/saga-deps';
import { databaseStepInput } from '#shared/provisioning/inputs';
import { createRoleAndDatabase } from '#shared/provisioning/saga';
import { stepHandler } from '#shared/workflows/step';

/** Provisioning step 3: role, database, CONNECT revoked from PUBLIC. */
export const handler = stepHandler(
  'CreateRoleAndDatabase',
  databaseStepInput,
  async ({ tenantId, databaseId }, services) =>
    createRoleAndDatabase(sagaDeps(services), tenantId, databaseId),
);
