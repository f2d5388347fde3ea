import { httpHandler } from '#shared/http/handler';
import { moduleDeps } from '#shared/modules/deps';
import { listModules } from '#shared/modules/modules';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.listModules, async ({ params }) => ({
  status: 200,
  body: await listModules(moduleDeps(), params.tenantId),
}));
