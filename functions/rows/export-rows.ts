import { ROW_FILE_CONTENT_TYPES } from '#shared/data/row-files';
import { exportRows } from '#shared/data/row-transfer';
import { httpHandler } from '#shared/http/handler';
import { withTextBodies } from '#shared/http/text-response';
import { bulkRoutes } from '#shared/routes/bulk-routes';

export const handler = withTextBodies(
  httpHandler(bulkRoutes.exportRows, async ({ params, query }, services) => {
    const page = await exportRows(services, params.tenantId, params.databaseId, params.table, query);
    return {
      status: 200,
      body: page.text,
      headers: {
        'content-type': ROW_FILE_CONTENT_TYPES[query.format],
        'content-disposition': `attachment; filename="${params.table}.${query.format}"`,
        'x-tenantry-rows': String(page.rows),
        ...(page.nextCursor ? { 'x-tenantry-next-cursor': page.nextCursor } : {}),
      },
    };
  }),
);
