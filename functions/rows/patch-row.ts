import { patchRow } from '#shared/data/rows';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.patchRow, async ({ params, body }, services) => ({
  status: 200,
  body: await patchRow(services, params.tenantId, params.databaseId, params.table, params.rowId, body),
}));
