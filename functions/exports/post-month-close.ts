import { exportDeps } from '#shared/composition/export-deps';
import { closeMonth, closeSummary } from '#shared/exports/usage-export';
import { httpHandler } from '#shared/http/handler';
import { recordRoutes } from '#shared/routes/record-routes';

/**
 * Closes a finished month on demand, with the scheduled close's own code: the answer is the
 * archive's summary, the same on every call; the header tells whether this call wrote it.
 */
export const handler = httpHandler(recordRoutes.closeUsageMonth, async ({ params, logger }, services) => {
  const result = await closeMonth(exportDeps(services), params.month);
  if (result.corrected.length > 0) {
    logger.warn('month close corrected rollups from raw records', { corrected: result.corrected });
  }
  return {
    status: 200,
    body: closeSummary(result),
    headers: { 'x-tenantry-month-close': result.created ? 'created' : 'existing' },
  };
});
