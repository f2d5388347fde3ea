import { TenantCensus } from '#shared/control/tenant-census';
import { analyticsToCsv, platformAnalytics } from '#shared/exports/platform-analytics';
import { httpHandler } from '#shared/http/handler';
import { CSV_CONTENT_TYPE, withTextBodies } from '#shared/http/text-response';
import { analyticsRoutes } from '#shared/routes/analytics-routes';

export const handler = withTextBodies(
  httpHandler(analyticsRoutes.getPlatformAnalytics, async ({ query }, services) => {
    const report = await platformAnalytics(
      { analytics: services.records.analytics, census: new TenantCensus(services.control) },
      query.from,
      query.to,
    );
    if (query.format === 'json') return { status: 200, body: report };
    return {
      status: 200,
      body: analyticsToCsv(report),
      headers: {
        'content-type': CSV_CONTENT_TYPE,
        'content-disposition': `attachment; filename="tenantry-analytics-${query.from}-${query.to}.csv"`,
      },
    };
  }),
);
