import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.getHealth, async (_input, services) => ({
  status: 200,
  body: { status: 'ok', stage: services.settings.stage },
}));
