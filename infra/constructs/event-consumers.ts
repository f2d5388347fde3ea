import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from '#infra/constructs/dead-letter-queue';
import { sendFailedInvocationsToQueue } from '#infra/constructs/failed-invocations';
import { grantNeeds } from '#infra/constructs/needs';
import { TenantryFunction } from '#infra/constructs/tenantry-function';
import type { StagePolicy } from '#infra/stage-policy';
import type { EventCatalog } from '#shared/events/catalog';
import {
  CONSUMER_TARGET_MAX_EVENT_AGE_SECONDS,
  CONSUMER_TARGET_RETRY_ATTEMPTS,
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
  /** Events the rule could not deliver to Lambda. */
  readonly deadLetterQueue: sqs.Queue;
  readonly alarm: cloudwatch.Alarm;
  /** Invocation records of events the function failed on after Lambda's retries. */
  readonly failedInvocationsQueue: DeadLetterQueue;
}

/**
 * One EventBridge rule per subscription, matching the catalog's source and detail-type, whose
 * Lambda target retries and then dead-letters into its own encrypted queue, watched by an alarm
 * that fires on the first message. Each consumer also has an on-failure destination: events the
 * function itself failed on (after Lambda's retries) go to a second queue with its own alarm.
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

      const deadLetterQueue = new DeadLetterQueue(scopeForOne, 'DeadLetterQueue', {
        alarmDescription: `Tenantry ${props.stage}: ${subscription.name} dead-lettered events`,
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
        new targets.LambdaFunction(fn.function, {
          deadLetterQueue,
          retryAttempts: props.retryAttempts ?? CONSUMER_TARGET_RETRY_ATTEMPTS,
          maxEventAge: props.maxEventAge ?? Duration.seconds(CONSUMER_TARGET_MAX_EVENT_AGE_SECONDS),
        }),
      );

      const failedInvocationsQueue = sendFailedInvocationsToQueue(scopeForOne, 'FailedInvocationsQueue', fn, {
        alarmDescription: `Tenantry ${props.stage}: ${subscription.name} failed on events after Lambda's retries`,
        alarmTopic: props.alarmTopic,
      });

      this.consumers.push({
        subscription,
        rule,
        function: fn,
        deadLetterQueue,
        alarm: deadLetterQueue.alarm,
        failedInvocationsQueue,
      });
    }
  }
}
