import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';

export const handler = httpHandler(coreRoutes.getHealth, async (_input, services) => ({
  status: 200,
  body: { status: 'ok', stage: services.settings.stage },
}));
