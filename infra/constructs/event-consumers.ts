import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from '#infra/constructs/dead-letter-queue';
import { grantNeeds } from '#infra/constructs/needs';
import { TenantryFunction } from '#infra/constructs/tenantry-function';
import type { StagePolicy } from '#infra/stage-policy';
import type { EventCatalog } from '#shared/events/catalog';
import {
  CONSUMER_TARGET_MAX_EVENT_AGE_SECONDS,
  CONSUMER_TARGET_RETRY_ATTEMPTS,
  VISIBILITY_TIMEOUT_FACTOR,
} from '#shared/events/delivery-policy';
import type { EventSubscription } from '#shared/events/subscriptions';

export interface EventConsumersProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  readonly eventBus: events.IEventBus;
  /** Source of each detail-type's `source`, so rules match on both. */
  readonly catalog: EventCatalog;
  readonly subscriptions: readonly EventSubscription[];
  /** Consumers write audit records here (`AUDIT_TABLE_NAME`). */
  readonly auditTable: dynamodb.ITable;
  /** Consumers write usage records and rollups here (`USAGE_TABLE_NAME`). */
  readonly usageTable: dynamodb.ITable;
  /**
   * Extra environment of every consumer (e.g. `AUDIT_RETENTION_DAYS`).
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Where dead-letter alarms notify.
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * How many times EventBridge retries a failed delivery before dead-lettering it.
   * @default CONSUMER_TARGET_RETRY_ATTEMPTS (8)
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps retrying an event before dead-lettering it.
   * @default Duration.hours(6)
   */
  readonly maxEventAge?: Duration;
}

export interface EventConsumer {
  readonly subscription: EventSubscription;
  readonly rule: events.Rule;
  readonly function: TenantryFunction;
  /** The queue the rule delivers to and the consumer reads in batches. */
  readonly queue: sqs.Queue;
  /** Events the rule could not deliver to the queue. */
  readonly deadLetterQueue: DeadLetterQueue;
  readonly alarm: cloudwatch.Alarm;
  /** Messages the consumer failed on `maxReceiveCount` times (poison records), moved here by SQS. */
  readonly failedMessagesQueue: DeadLetterQueue;
}

/**
 * One EventBridge rule per subscription, matching the catalog's source and detail-type, whose
 * target is the subscription's encrypted queue (the rule retries, then dead-letters what it cannot
 * deliver into a queue of its own). The consumer reads the queue through an SQS event source:
 * batches of `delivery.batchSize` gathered for up to `delivery.batchingWindowSeconds`, with partial
 * batch responses, so only the messages it failed on come back; a message failed
 * `delivery.maxReceiveCount` times goes to the failed-messages queue. Both dead-letter queues alarm
 * on their first message.
 */
export class EventConsumers extends Construct {
  readonly consumers: EventConsumer[] = [];

  constructor(scope: Construct, id: string, props: EventConsumersProps) {
    super(scope, id);
    const names = new Set<string>();
    for (const subscription of props.subscriptions) {
      if (names.has(subscription.name)) throw new Error(`Duplicate event subscription ${subscription.name}`);
      names.add(subscription.name);
      if (subscription.detailTypes.length === 0) {
        throw new Error(`Event subscription ${subscription.name} has no detail-types`);
      }
      // `get` throws on a detail-type that is not in the catalog.
      const definitions = subscription.detailTypes.map((detailType) => props.catalog.get(detailType));
      const scopeForOne = new Construct(this, subscription.name);

      const fn = new TenantryFunction(scopeForOne, 'Consumer', {
        handler: subscription.handler,
        stage: props.stage,
        policy: props.policy,
        serviceName: 'tenantry-events',
        environment: props.environment,
      });
      grantNeeds(fn, subscription.needs, {
        stage: props.stage,
        auditTable: props.auditTable,
        usageTable: props.usageTable,
      });

      const failedMessagesQueue = new DeadLetterQueue(scopeForOne, 'FailedMessagesQueue', {
        alarmDescription: `Tenantry ${props.stage}: ${subscription.name} failed on messages ${subscription.delivery.maxReceiveCount} times`,
        alarmTopic: props.alarmTopic,
      });
      const timeout = fn.function.timeout ?? Duration.seconds(3);
      const queue = new sqs.Queue(scopeForOne, 'Queue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(timeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
        // What waits for a consumer that is down: as long as the failed messages are kept.
        retentionPeriod: Duration.days(14),
        deadLetterQueue: {
          queue: failedMessagesQueue,
          maxReceiveCount: subscription.delivery.maxReceiveCount,
        },
      });
      fn.function.addEventSource(
        new SqsEventSource(queue, {
          batchSize: subscription.delivery.batchSize,
          maxBatchingWindow: Duration.seconds(subscription.delivery.batchingWindowSeconds),
          reportBatchItemFailures: true,
        }),
      );

      const deadLetterQueue = new DeadLetterQueue(scopeForOne, 'DeadLetterQueue', {
        alarmDescription: `Tenantry ${props.stage}: ${subscription.name} events the rule could not deliver to its queue`,
        alarmTopic: props.alarmTopic,
      });

      const rule = new events.Rule(scopeForOne, 'Rule', {
        eventBus: props.eventBus,
        description: `${subscription.name}: ${subscription.detailTypes.join(', ')}`,
        eventPattern: {
          source: [...new Set(definitions.map((definition) => definition.source))],
          detailType: definitions.map((definition) => definition.detailType),
        },
      });
      rule.addTarget(
        new targets.SqsQueue(queue, {
          deadLetterQueue,
          retryAttempts: props.retryAttempts ?? CONSUMER_TARGET_RETRY_ATTEMPTS,
          maxEventAge: props.maxEventAge ?? Duration.seconds(CONSUMER_TARGET_MAX_EVENT_AGE_SECONDS),
        }),
      );

      this.consumers.push({
        subscription,
        rule,
        function: fn,
        queue,
        deadLetterQueue,
        alarm: deadLetterQueue.alarm,
        failedMessagesQueue,
      });
    }
  }
}
