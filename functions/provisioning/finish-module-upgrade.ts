import { upgradeDeps } from '#shared/composition/module-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { finishModuleUpgrade, upgradeStepInput } from '#shared/modules/upgrades';

/** Module upgrade, last step: completed, with the counts (also the execution's output). */
export const handler = stepHandler('FinishModuleUpgrade', upgradeStepInput, async ({ upgradeId }, services) =>
  finishModuleUpgrade(upgradeDeps(services), upgradeId),
);
