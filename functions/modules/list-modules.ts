import { moduleDeps } from '#shared/composition/module-deps';
import { httpHandler } from '#shared/http/handler';
import { listModules } from '#shared/modules/modules';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.listModules, async ({ params }, services) => ({
  status: 200,
  body: await listModules(moduleDeps(services), params.tenantId),
}));
