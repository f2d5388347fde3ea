import { sagaDeps } from '#shared/composition/saga-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { tenantStepInput } from '#shared/provisioning/inputs';
import { planTenantOffboarding } from '#shared/provisioning/offboarding';

/** Offboarding, step 1: the tenant and the tenants below it still to offboard, deepest level first. */
export const handler = stepHandler('PlanTenantOffboarding', tenantStepInput, async ({ tenantId }, services) =>
  planTenantOffboarding(sagaDeps(services), tenantId),
);
