import { offboardingDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { tenantStepInput } from '#shared/provisioning/inputs';
import { offboardTenant } from '#shared/provisioning/offboarding';

/** Offboarding: every database, the role, the secret, the backups and the memberships go, each in the certificate. */
export const handler = stepHandler('OffboardTenant', tenantStepInput, async ({ tenantId }, services) =>
  offboardTenant(offboardingDeps(services), tenantId),
);
