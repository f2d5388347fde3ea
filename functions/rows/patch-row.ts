import { patchRow } from '#shared/data/rows';
import { httpHandler } from '#shared/http/handler';
import { dataRoutes } from '#shared/routes/data-routes';

export const handler = httpHandler(dataRoutes.patchRow, async ({ params, body }, services) => ({
  status: 200,
  body: await patchRow(services, params.tenantId, params.databaseId, params.table, params.rowId, body),
}));
