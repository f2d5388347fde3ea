import { upgradeDeps } from '#shared/composition/module-deps';
import { loadUpgradeWave, waveStepInput } from '#shared/modules/upgrades';
import { stepHandler } from '#shared/workflows/step';

/** Module upgrade, per wave: the wave's pending databases (the inner Map's items). */
export const handler = stepHandler(
  'LoadModuleUpgradeWave',
  waveStepInput,
  async ({ upgradeId, wave }, services) => loadUpgradeWave(upgradeDeps(services), upgradeId, wave),
);
