import { sagaDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { databaseStepInput } from '#shared/provisioning/inputs';
import { placeDatabase } from '#shared/provisioning/saga';

/** Provisioning step 1: choose and record the cluster. */
export const handler = stepHandler(
  'PlaceDatabase',
  databaseStepInput,
  async ({ tenantId, databaseId }, services) => placeDatabase(sagaDeps(services), tenantId, databaseId),
);
