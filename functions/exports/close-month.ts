import * as z from 'zod';
import { exportDeps } from '#shared/composition/export-deps';
import { functionHandler } from '#shared/composition/handler';
import { logger } from '#shared/core/logger';
import { addMonths, currentMonth, MONTH_PATTERN } from '#shared/exports/months';
import { closeMonth } from '#shared/exports/usage-export';

const input = z.object({ month: z.string().regex(MONTH_PATTERN).optional() }).passthrough();

/**
 * Scheduled on the 1st of every month (UTC): closes the month that just ended, writes its CSV to
 * the archive. `{ "month": "YYYY-MM" }` closes another finished month; running it twice is safe.
 */
export const handler = functionHandler(async (event: unknown, services) => {
  const parsed = input.parse(event ?? {});
  const month = parsed.month ?? addMonths(currentMonth(), -1);
  const result = await closeMonth(exportDeps(services), month);
  const summary = {
    month,
    created: result.created,
    lines: result.export.lines.length,
    corrected: result.corrected,
  };
  if (result.corrected.length > 0) logger.warn('month close corrected rollups from raw records', summary);
  else logger.info('month closed', summary);
  return summary;
});
