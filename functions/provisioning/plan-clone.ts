import { cloneStepDeps } from '#shared/composition/clone-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { planClone } from '#shared/provisioning/clone-steps';
import { cloneStepInput } from '#shared/provisioning/inputs';

/** Clone, after the source's backup: the new tenant's databases, each to restore. */
export const handler = stepHandler('PlanClone', cloneStepInput, async ({ tenantId, backupId }, services) =>
  planClone(cloneStepDeps(services), tenantId, backupId),
);
