import { NotFound } from '#shared/errors';
import { httpHandler } from '#shared/http/handler';
import { CSV_CONTENT_TYPE, withTextBodies } from '#shared/http/text-response';
import { recordRoutes } from '#shared/routes/record-routes';

export const handler = withTextBodies(
  httpHandler(recordRoutes.getUsageExport, async ({ params, query }, services) => {
    const archived = await services.records.archive.get(params.month);
    if (!archived) throw new NotFound('No archived export for this month');
    if (query.format === 'json') {
      return {
        status: 200,
        body: { month: archived.month, closedAt: archived.closedAt, lines: archived.lines },
      };
    }
    return {
      status: 200,
      body: archived.csv,
      headers: {
        'content-type': CSV_CONTENT_TYPE,
        'content-disposition': `attachment; filename="tenantry-usage-${archived.month}.csv"`,
      },
    };
  }),
);
