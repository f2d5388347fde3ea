import { sagaDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { tenantStepInput } from '#shared/provisioning/inputs';
import { offboardTenant } from '#shared/provisioning/offboarding';

/** Offboarding: every database, the role, the secret and the memberships go. */
export const handler = stepHandler('OffboardTenant', tenantStepInput, async ({ tenantId }, services) =>
  offboardTenant(sagaDeps(services), tenantId),
);
