import { sagaDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { databaseStepInput } from '#shared/provisioning/inputs';
import { applyBaselineSchema } from '#shared/provisioning/saga';

/** Provisioning step 4: the baseline schema, as the tenant role. */
export const handler = stepHandler(
  'ApplyBaselineSchema',
  databaseStepInput,
  async ({ tenantId, databaseId }, services) => applyBaselineSchema(sagaDeps(services), tenantId, databaseId),
);
