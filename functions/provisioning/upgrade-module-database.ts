import { upgradeDeps } from '#shared/composition/module-deps';
import { stepHandler } from '#shared/composition/step-handler';
import { targetStepInput, upgradeModuleDatabase } from '#shared/modules/upgrades';

/** Module upgrade, per database: its pending migrations in one transaction, as the tenant role. */
export const handler = stepHandler('UpgradeModuleDatabase', targetStepInput, async (target, services) =>
  upgradeModuleDatabase(upgradeDeps(services), target),
);
