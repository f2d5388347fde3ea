import { recordServices } from '#shared/composition/record-services';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.listUsageExports, async () => ({
  status: 200,
  body: { items: await recordServices().archive.list() },
}));
