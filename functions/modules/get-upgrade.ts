import { upgradeDeps } from '#shared/composition/module-deps';
import { httpHandler } from '#shared/http/handler';
import { describeModuleUpgrade } from '#shared/modules/upgrades';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.getModuleUpgrade, async ({ params, query }, services) => ({
  status: 200,
  body: await describeModuleUpgrade(
    upgradeDeps(services),
    params.moduleId,
    params.upgradeId,
    query.limit,
    query.cursor,
  ),
}));
