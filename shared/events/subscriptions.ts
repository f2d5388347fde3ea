import type { Need } from '#shared/domain/needs';
import { type QueueDelivery, RECORDS_QUEUE_DELIVERY } from '#shared/events/delivery-policy';

/**
 * Which consumer handles which events. CDK makes one EventBridge rule per subscription, targeting
 * the subscription's SQS queue (with a dead-letter queue for what the rule cannot deliver), and the
 * consumer reads the queue in batches (with a dead-letter queue for messages it keeps failing on,
 * each queue with an alarm); the local bus and queues route the same way to the same handlers.
 */
export interface EventSubscription {
  /** PascalCase, unique: names the rule, its queues and its function. */
  readonly name: string;
  readonly detailTypes: readonly string[];
  /** Entry point under `functions/`, without extension: an SQS batch handler. */
  readonly handler: string;
  /** What the consumer reaches (shared/routes/needs.ts): the CDK app grants exactly this. */
  readonly needs: readonly Need[];
  /** How its queue hands it the events. */
  readonly delivery: QueueDelivery;
}

export const subscriptions: readonly EventSubscription[] = [
  // One consumer for every record: a request's audit record, usage and metric sample arrive in one
  // event (Request Recorded), and are written with the rest of their batch.
  {
    name: 'RecordTelemetry',
    detailTypes: ['Request Recorded', 'Audit Record', 'Usage Recorded', 'Metric Sample'],
    handler: 'events/record-telemetry',
    needs: ['auditRecordsWrite', 'usageRecordsWrite'],
    delivery: RECORDS_QUEUE_DELIVERY,
  },
];
