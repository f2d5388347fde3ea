import { NotFound, ValidationFailed } from '#shared/errors';
import { linesToCsv } from '#shared/exports/export-lines';
import { currentMonth } from '#shared/exports/months';
import { computeMonth, tenantCatalog } from '#shared/exports/usage-export';
import { httpHandler } from '#shared/http/handler';
import { CSV_CONTENT_TYPE, withTextBodies } from '#shared/http/text-response';
import { routes } from '#shared/routes/table';

export const handler = withTextBodies(
  httpHandler(routes.exportUsage, async ({ query }, services) => {
    if (query.month > currentMonth()) {
      throw new ValidationFailed('The month has not started yet', {
        details: [
          { location: 'query', path: 'month', code: 'future_month', message: 'a past or the current month' },
        ],
      });
    }
    const records = services.records;
    const tenants = tenantCatalog(services.tenants);
    const archived = await records.archive.get(query.month);
    let lines = archived?.lines ?? [];
    if (query.tenantId) {
      const tenant = await tenants.get(query.tenantId);
      if (!tenant) throw new NotFound('Tenant not found');
      lines = archived
        ? lines.filter((line) => line.tenantId === tenant.id)
        : await computeMonth(records.usage, query.month, [tenant]);
    } else if (!archived) {
      lines = await computeMonth(records.usage, query.month, await tenants.all());
    }
    const status = archived ? 'closed' : 'open';
    const headers = { 'x-tenantry-export-status': status };
    if (query.format === 'json') return { status: 200, body: { month: query.month, status, lines }, headers };
    return {
      status: 200,
      body: linesToCsv(lines),
      headers: {
        ...headers,
        'content-type': CSV_CONTENT_TYPE,
        'content-disposition': `attachment; filename="tenantry-usage-${query.month}${query.tenantId ? `-${query.tenantId}` : ''}.csv"`,
      },
    };
  }),
);
