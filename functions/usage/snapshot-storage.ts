import { functionHandler } from '#shared/composition/handler';
import { logger } from '#shared/core/logger';
import { sizeAsTenant, snapshotStorage } from '#shared/records/storage-snapshot';

/** Scheduled (EventBridge Scheduler): storage and database count of every tenant, as usage. */
export const handler = functionHandler(
  async (_event: unknown, services): Promise<{ tenants: number; events: number }> => {
    // Each database measured as its own tenant: the job reads no tenant secret and not the master.
    const result = await snapshotStorage(services.control, sizeAsTenant(services.clusters), services.events);
    logger.info('storage snapshot published', result);
    return result;
  },
);
