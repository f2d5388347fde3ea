import { logger } from '#shared/core/logger';
import { eventHandler } from '#shared/events/consumer';
import { AuditRecord, MetricSample, UsageRecorded } from '#shared/events/events';
import type { AuditStore } from '#shared/records/audit-store';
import type { MetricsStore } from '#shared/records/metrics-store';
import type { UsageStore } from '#shared/records/usage-store';

/** A store, or where to get it when an event arrives (the function's composition root). */
type StoreOf<S> = S | (() => S);
const storeOf = <S extends object>(store: StoreOf<S>): S =>
  typeof store === 'function' ? (store as () => S)() : store;

/**
 * The EventBridge consumers of the records, built on their stores so that tests replay events
 * against the real DynamoDB API. Each is idempotent by event id.
 */
export const auditConsumer = (store: StoreOf<AuditStore>) =>
  eventHandler(AuditRecord, async ({ id, detail }) => {
    const recorded = await storeOf(store).record(id, detail);
    if (!recorded) logger.info('audit record already stored (replayed event)');
  });

export const usageConsumer = (store: StoreOf<UsageStore>) =>
  eventHandler(UsageRecorded, async ({ id, detail }) => {
    const outcome = await storeOf(store).record(id, detail);
    if (outcome === 'replayed') logger.info('usage already recorded (replayed event)');
  });

export const metricConsumer = (store: StoreOf<MetricsStore>) =>
  eventHandler(MetricSample, async ({ id, detail }) => {
    const outcome = await storeOf(store).record(id, detail);
    if (outcome === 'replayed') logger.info('metric sample already recorded (replayed event)');
  });
