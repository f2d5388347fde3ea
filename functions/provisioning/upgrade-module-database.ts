import { upgradeDeps } from '#shared/composition/module-deps';
import { targetStepInput, upgradeModuleDatabase } from '#shared/modules/upgrades';
import { stepHandler } from '#shared/workflows/step';

/** Module upgrade, per database: its pending migrations in one transaction, as the tenant role. */
export const handler = stepHandler('UpgradeModuleDatabase', targetStepInput, async (target, services) =>
  upgradeModuleDatabase(upgradeDeps(services), target),
);
