import { sagaDeps } from '#shared/composition/saga-deps';
import { databaseStepInput } from '#shared/provisioning/inputs';
import { ensureTenantSecret } from '#shared/provisioning/saga';
import { stepHandler } from '#shared/workflows/step';

/** Provisioning step 2: the tenant's tagged secret. */
export const handler = stepHandler(
  'EnsureTenantSecret',
  databaseStepInput,
  async ({ tenantId, databaseId }, services) => ensureTenantSecret(sagaDeps(services), tenantId, databaseId),
);
