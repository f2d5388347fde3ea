import { composed } from '#shared/composition/handler';
import type { AuditRecords, MetricRecords, UsageRecords } from '#shared/composition/record-services';
import type { Services } from '#shared/composition/services';
import { logger } from '#shared/core/logger';
import { eventHandler } from '#shared/events/consumer';
import { AuditRecord, MetricSample, UsageRecorded } from '#shared/events/events';

/** A store, or which of the function's services it is (its composition root's). */
type StoreOf<S> = S | ((services: Services) => S);
const consumer = <S extends object>(
  store: StoreOf<S>,
  bind: (store: () => S) => ReturnType<typeof eventHandler>,
) =>
  composed((services: Services) =>
    bind(() => (typeof store === 'function' ? (store as (services: Services) => S)(services) : store)),
  );

/**
 * The EventBridge consumers of the records, built on their stores (or on the function's
 * services) so that tests replay events against the real DynamoDB API. Each is idempotent by
 * event id.
 */
export const auditConsumer = (store: StoreOf<AuditRecords>) =>
  consumer(store, (audit) =>
    eventHandler(AuditRecord, async ({ id, detail }) => {
      const recorded = await audit().record(id, detail);
      if (!recorded) logger.info('audit record already stored (replayed event)');
    }),
  );

export const usageConsumer = (store: StoreOf<UsageRecords>) =>
  consumer(store, (usage) =>
    eventHandler(UsageRecorded, async ({ id, detail }) => {
      const outcome = await usage().record(id, detail);
      if (outcome === 'replayed') logger.info('usage already recorded (replayed event)');
    }),
  );

export const metricConsumer = (store: StoreOf<MetricRecords>) =>
  consumer(store, (metrics) =>
    eventHandler(MetricSample, async ({ id, detail }) => {
      const outcome = await metrics().record(id, detail);
      if (outcome === 'replayed') logger.info('metric sample already recorded (replayed event)');
    }),
  );
