import { upgradeDeps } from '#shared/composition/module-deps';
import { finishModuleUpgrade, upgradeStepInput } from '#shared/modules/upgrades';
import { stepHandler } from '#shared/workflows/step';

/** Module upgrade, last step: completed, with the counts (also the execution's output). */
export const handler = stepHandler('FinishModuleUpgrade', upgradeStepInput, async ({ upgradeId }, services) =>
  finishModuleUpgrade(upgradeDeps(services), upgradeId),
);
