import { moduleDeps } from '#shared/composition/module-deps';
import { httpHandler } from '#shared/http/handler';
import { listModules } from '#shared/modules/modules';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.listModules, async ({ params }, services) => ({
  status: 200,
  body: await listModules(moduleDeps(services), params.tenantId),
}));
