import { upgradeDeps } from '#shared/composition/module-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { planModuleUpgrade, upgradeStepInput } from '#shared/modules/upgrades';

/** Module upgrade, step 1: the databases to upgrade and their waves. */
export const handler = stepHandler('PlanModuleUpgrade', upgradeStepInput, async ({ upgradeId }, services) =>
  planModuleUpgrade(upgradeDeps(services), upgradeId),
);
