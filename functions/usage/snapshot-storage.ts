import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import * as z from 'zod';
import { EventBridgePublisher } from '#shared/adapters/eventbridge-publisher';
import { services } from '#shared/composition/runtime';
import { configFields, loadConfig } from '#shared/config';
import { logger } from '#shared/core/logger';
import { sizeAsTenant, snapshotStorage } from '#shared/records/storage-snapshot';

const config = loadConfig(z.object({ EVENT_BUS_NAME: configFields.name }));
const publisher = new EventBridgePublisher({
  client: new EventBridgeClient({}),
  eventBusName: config.EVENT_BUS_NAME,
});

/** Scheduled (EventBridge Scheduler): storage and database count of every tenant, as usage. */
export const handler = async (): Promise<{ tenants: number; events: number }> => {
  const s = services();
  const result = await snapshotStorage(s.control, sizeAsTenant(s.clusters), publisher);
  logger.info('storage snapshot published', result);
  return result;
};
