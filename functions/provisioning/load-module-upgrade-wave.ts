import { upgradeDeps } from '#shared/composition/module-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { loadUpgradeWave, waveStepInput } from '#shared/modules/upgrades';

/** Module upgrade, per wave: the wave's pending databases (the inner Map's items). */
export const handler = stepHandler(
  'LoadModuleUpgradeWave',
  waveStepInput,
  async ({ upgradeId, wave }, services) => loadUpgradeWave(upgradeDeps(services), upgradeId, wave),
);
