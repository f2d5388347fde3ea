import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.listUsageExports, async (_input, services) => ({
  status: 200,
  body: { items: await services.records.archive.list() },
}));
