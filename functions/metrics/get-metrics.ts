import { httpHandler } from '#shared/http/handler';
import { recordRoutes } from '#shared/routes/record-routes';

export const handler = httpHandler(recordRoutes.getMetrics, async ({ params, query }, services) => {
  const to = new Date(query.to).toISOString();
  const from = new Date(query.from).toISOString();
  const items = await services.records.metrics.hours(params.tenantId, from, to);
  return { status: 200, body: { tenantId: params.tenantId, from, to, items } };
});
