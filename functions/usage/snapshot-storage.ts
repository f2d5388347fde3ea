import { functionHandler } from '#shared/composition/handler';
import { logger } from '#shared/core/logger';
import { snapshotStorage } from '#shared/records/storage-snapshot';

/** Scheduled (EventBridge Scheduler): storage and database count of every tenant, as usage. */
export const handler = functionHandler(
  async (_event: unknown, services): Promise<{ tenants: number; events: number }> => {
    const result = await snapshotStorage(services.control, services.events);
    logger.info('storage snapshot published', result);
    return result;
  },
);
