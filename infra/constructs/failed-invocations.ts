import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DeadLetterQueue } from '#infra/constructs/dead-letter-queue';
import type { TenantryFunction } from '#infra/constructs/tenantry-function';
import { ASYNC_MAX_EVENT_AGE_SECONDS, ASYNC_RETRY_ATTEMPTS } from '#shared/events/delivery-policy';

export interface FailedInvocationsProps {
  /** What the alarm tells the operator went wrong. */
  readonly alarmDescription: string;
  /**
   * Where the alarm notifies.
   * @default - an alarm without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Period of the alarm's metric.
   * @default Duration.minutes(1)
   */
  readonly alarmPeriod?: Duration;
}

/**
 * Gives an asynchronously invoked function (an EventBridge rule target, an EventBridge Scheduler
 * target) an on-failure destination: after Lambda's retries, or when an event grows older than
 * the maximum age, Lambda sends an invocation record to a queue of its own, watched by an alarm.
 *
 * Why this is needed: the rule's or schedule's dead-letter queue only holds events that could not
 * be delivered to Lambda. Once Lambda has queued an event the delivery has succeeded, and a
 * function error is retried by Lambda and then dropped
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 *
 * Why a destination rather than a function dead-letter queue: the invocation record carries the
 * request payload and the response (error type, message and stack trace) and the reason the
 * record was sent (`RetriesExhausted`, `EventAgeExceeded`); a dead-letter queue gets only the
 * event (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
 *
 * The role gets `sqs:SendMessage` on that one queue, the one permission the Lambda developer
 * guide lists for an SQS destination (same page, "Adding a destination"); the queue's SQS-managed
 * encryption needs no KMS permission. Not `SqsDestination`, which would grant `grantSendMessages`
 * (`sqs:GetQueueAttributes` and `sqs:GetQueueUrl` as well).
 */
export function sendFailedInvocationsToQueue(
  scope: Construct,
  id: string,
  fn: TenantryFunction,
  props: FailedInvocationsProps,
): DeadLetterQueue {
  const queue = new DeadLetterQueue(scope, id, {
    alarmDescription: props.alarmDescription,
    alarmTopic: props.alarmTopic,
    alarmPeriod: props.alarmPeriod,
  });
  // In the role's default policy, which the function (and so its EventInvokeConfig) depends on:
  // the permission exists before Lambda is told about the destination.
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'SendFailedInvocationRecords',
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
    }),
  );
  fn.function.configureAsyncInvoke({
    // The numbers, and why, are in shared/events/delivery-policy.ts; the local platform uses them too.
    retryAttempts: ASYNC_RETRY_ATTEMPTS,
    maxEventAge: Duration.seconds(ASYNC_MAX_EVENT_AGE_SECONDS),
    onFailure: { bind: () => ({ destination: queue.queueArn }) },
  });
  return queue;
}
