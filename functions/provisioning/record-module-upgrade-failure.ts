import { upgradeDeps } from '#shared/composition/module-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { failedTargetStepInput, recordUpgradeFailure } from '#shared/modules/upgrades';

/** Module upgrade, per failed database (from the Catch): the outcome, recorded; the wave goes on. */
export const handler = stepHandler(
  'RecordModuleUpgradeFailure',
  failedTargetStepInput,
  async ({ error, ...target }, services) => recordUpgradeFailure(upgradeDeps(services), target, error),
);
