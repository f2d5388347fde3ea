import { upgradeDeps } from '#shared/composition/module-deps';
import { httpHandler } from '#shared/http/handler';
import { startModuleUpgrade } from '#shared/modules/upgrades';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(
  dataRoutes.startModuleUpgrade,
  async ({ params, body, caller, idempotency }, services) => ({
    status: 202,
    body: await startModuleUpgrade(
      upgradeDeps(services),
      params.moduleId,
      body.waveSize,
      caller.userId,
      idempotency,
    ),
  }),
);
