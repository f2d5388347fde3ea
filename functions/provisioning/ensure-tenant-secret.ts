import { sagaDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { databaseStepInput } from '#shared/provisioning/inputs';
import { ensureTenantSecret } from '#shared/provisioning/saga';

/** Provisioning step 2: the tenant's tagged secret. */
export const handler = stepHandler(
  'EnsureTenantSecret',
  databaseStepInput,
  async ({ tenantId, databaseId }, services) => ensureTenantSecret(sagaDeps(services), tenantId, databaseId),
);
