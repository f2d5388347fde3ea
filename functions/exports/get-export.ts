import { exportDeps } from '#shared/composition/export-deps';
import { ValidationFailed } from '#shared/errors';
import { linesToCsv } from '#shared/exports/export-lines';
import { currentMonth } from '#shared/exports/months';
import { monthExport } from '#shared/exports/usage-export';
import { httpHandler } from '#shared/http/handler';
import { CSV_CONTENT_TYPE, withTextBodies } from '#shared/http/text-response';
import { recordRoutes } from '#shared/routes/record-routes';

export const handler = withTextBodies(
  httpHandler(recordRoutes.exportUsage, async ({ query }, services) => {
    if (query.month > currentMonth()) {
      throw new ValidationFailed('The month has not started yet', {
        details: [
          { location: 'query', path: 'month', code: 'future_month', message: 'a past or the current month' },
        ],
      });
    }
    const { status, lines } = await monthExport(exportDeps(services), query);
    const headers = { 'x-tenantry-export-status': status };
    if (query.format === 'json') return { status: 200, body: { month: query.month, status, lines }, headers };
    const name = [
      `tenantry-usage-${query.month}`,
      ...(query.tenantId ? [query.tenantId] : []),
      ...(query.rollup === 'root' ? ['roots'] : []),
    ].join('-');
    return {
      status: 200,
      body: linesToCsv(lines),
      headers: {
        ...headers,
        'content-type': CSV_CONTENT_TYPE,
        'content-disposition': `attachment; filename="${name}.csv"`,
      },
    };
  }),
);
