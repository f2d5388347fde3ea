import { upgradeDeps } from '#shared/composition/module-deps';
import { httpHandler } from '#shared/http/handler';
import { describeModuleUpgrade } from '#shared/modules/upgrades';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.getModuleUpgrade, async ({ params, query }, services) => ({
  status: 200,
  body: await describeModuleUpgrade(
    upgradeDeps(services),
    params.moduleId,
    params.upgradeId,
    query.limit,
    query.cursor,
  ),
}));
