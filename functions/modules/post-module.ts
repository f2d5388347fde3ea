import { moduleDeps } from '#shared/composition/module-deps';
import { httpHandler } from '#shared/http/handler';
import { enableModule } from '#shared/modules/modules';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.enableModule, async ({ params, body }, services) => {
  const { created, module } = await enableModule(
    moduleDeps(services),
    params.tenantId,
    body.moduleId,
    body.databaseId,
  );
  return { status: created ? 201 : 200, body: module };
});
