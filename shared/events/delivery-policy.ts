/**
 * How events and scheduled invocations reach the asynchronously invoked functions (the event
 * consumers and the scheduled jobs), in numbers the CDK app writes into the templates and the
 * local bus and Lambda stand-in obey. Two layers, two policies:
 *
 * - the **rule or schedule target** (EventBridge, EventBridge Scheduler) retries a *delivery* that
 *   fails (Lambda throttles, is unavailable, the function or the permission is missing), then puts
 *   the event in the target's dead-letter queue
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html);
 * - **Lambda** has queued the event once delivered; a *function error* is retried by Lambda
 *   (`AWS::Lambda::EventInvokeConfig` `MaximumRetryAttempts`, `MaximumEventAgeInSeconds`), then the
 *   invocation record goes to the function's on-failure destination
 *   (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 *
 * Plain numbers, no CDK: the local platform reads them without loading aws-cdk-lib.
 */

/**
 * Lambda's retries of an asynchronous invocation that fails: as many as Lambda allows (0 to 2).
 * Every function this is used for is idempotent (consumers by event id, the storage snapshot keeps
 * a day's highest value, the month close answers the same summary every time), so a retry is safe.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
 */
export const ASYNC_RETRY_ATTEMPTS = 2;

/**
 * How long Lambda keeps an event it could not run yet (throttled, or between retries): the most
 * it allows, 6 hours (60 s to 6 h), so a throttled burst is delayed rather than sent to the
 * failure queue. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
 */
export const ASYNC_MAX_EVENT_AGE_SECONDS = 6 * 60 * 60;

/**
 * Lambda's waits before its retries of a function error: "a one-minute wait between the first two
 * attempts, and two minutes between the second and third"
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 * Not configurable in AWS; the local platform scales them down (docs/local-platform.md).
 */
export const ASYNC_RETRY_DELAYS_SECONDS: readonly number[] = [60, 120];

/** EventBridge's retries of a delivery to a consumer (the rule target's `RetryPolicy`). */
export const CONSUMER_TARGET_RETRY_ATTEMPTS = 8;
/** How long EventBridge keeps retrying a delivery to a consumer. */
export const CONSUMER_TARGET_MAX_EVENT_AGE_SECONDS = 6 * 60 * 60;

/** EventBridge Scheduler's retries of a job invocation it could not deliver. */
export const JOB_TARGET_RETRY_ATTEMPTS = 3;
/** How long EventBridge Scheduler keeps retrying a job invocation. */
export const JOB_TARGET_MAX_EVENT_AGE_SECONDS = 6 * 60 * 60;

/**
 * How a subscription's queue hands its events to its consumer (the Lambda SQS event source
 * mapping), in the numbers the CDK app writes and the local queue obeys.
 */
export interface QueueDelivery {
  /** Messages per invocation: up to 10,000 for a standard queue with a batching window. */
  readonly batchSize: number;
  /** How long Lambda gathers messages before it invokes with fewer than `batchSize` (0 to 300 s). */
  readonly batchingWindowSeconds: number;
  /** Receives of a message before its queue moves it to the dead-letter queue. */
  readonly maxReceiveCount: number;
}

/**
 * The records consumer's batches: at steady load a batch fills before its window ends, so
 * 1,000 requests cost about one invocation; at low load the window bounds how late a record is
 * (and how few invocations an idle platform costs). Limits: batch size up to 10,000 for a standard
 * queue, batching window up to 300 s
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html); a message is received
 * 5 times before it is dead-lettered, the count AWS recommends so that a throttled batch is retried
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
 */
export const RECORDS_QUEUE_DELIVERY: QueueDelivery = {
  batchSize: 1000,
  batchingWindowSeconds: 30,
  maxReceiveCount: 5,
};

/**
 * A consumer queue's visibility timeout is this many times its function's timeout: "at least six
 * times the configuration timeout on your function", so a throttled batch can be retried; Lambda
 * refuses an event source mapping whose function timeout exceeds the visibility timeout
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
