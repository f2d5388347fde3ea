import { upgradeDeps } from '#shared/composition/module-deps';
import { failedTargetStepInput, recordUpgradeFailure } from '#shared/modules/upgrades';
import { stepHandler } from '#shared/workflows/step';

/** Module upgrade, per failed database (from the Catch): the outcome, recorded; the wave goes on. */
export const handler = stepHandler(
  'RecordModuleUpgradeFailure',
  failedTargetStepInput,
  async ({ error, ...target }, services) => recordUpgradeFailure(upgradeDeps(services), target, error),
);
