import { functionHandler } from '#shared/composition/handler';
import { logger } from '#shared/core/logger';
import { sizeAsTenant, snapshotStorage } from '#shared/records/storage-snapshot';
import { announceStorageThresholds } from '#shared/tenancy/storage-thresholds';

/**
 * Scheduled (EventBridge Scheduler): storage and database count of every tenant, as usage; then
 * each tenant's storage against its plan's `storageBytes`, its 80 % and 100 % announced once.
 */
export const handler = functionHandler(
  async (_event: unknown, services): Promise<{ tenants: number; events: number; thresholds: number }> => {
    // Each database measured as its own tenant: the job reads no tenant secret and not the master.
    const { measured, ...result } = await snapshotStorage(
      services.control,
      sizeAsTenant(services.clusters),
      services.events,
    );
    const thresholds = await announceStorageThresholds(services, measured);
    logger.info('storage snapshot published', { ...result, thresholds });
    return { ...result, thresholds };
  },
);
