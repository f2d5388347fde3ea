import { httpHandler } from '#shared/http/handler';
import { recordServices } from '#shared/records/record-services';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.listUsageExports, async () => ({
  status: 200,
  body: { items: await recordServices().archive.list() },
}));
