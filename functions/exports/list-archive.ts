import { httpHandler } from '#shared/http/handler';
import { recordRoutes } from '#shared/routes/record-routes';

export const handler = httpHandler(recordRoutes.listUsageExports, async (_input, services) => ({
  status: 200,
  body: { items: await services.records.archive.list() },
}));
