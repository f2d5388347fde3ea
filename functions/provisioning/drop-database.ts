import { sagaDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { databaseStepInput } from '#shared/provisioning/inputs';
import { dropTenantDatabase } from '#shared/provisioning/saga';

/** Drops one of the tenant's extra databases. */
export const handler = stepHandler(
  'DropDatabase',
  databaseStepInput,
  async ({ tenantId, databaseId }, services) => dropTenantDatabase(sagaDeps(services), tenantId, databaseId),
);
