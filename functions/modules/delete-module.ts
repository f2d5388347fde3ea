import { moduleDeps } from '#shared/composition/module-deps';
import { httpHandler } from '#shared/http/handler';
import { disableModule } from '#shared/modules/modules';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.disableModule, async ({ params, query }, services) => ({
  status: 200,
  body: await disableModule(moduleDeps(services), params.tenantId, params.moduleId, {
    dropData: query.dropData,
    ...(query.databaseId ? { databaseId: query.databaseId } : {}),
  }),
}));
