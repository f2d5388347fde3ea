/**
 * Lambda's asynchronous invocation (`InvocationType: Event`), as EventBridge rules and EventBridge
 * Scheduler invoke the consumers and the jobs. Two outcomes are kept apart, as in AWS:
 *
 * - the function cannot be reached (it does not exist, or the service is gone): the *caller* gets
 *   `FunctionUnreachable` and nothing is queued — EventBridge's delivery failed, and its target
 *   retry policy and dead-letter queue take over (event-bus.ts);
 * - the function ran and threw (a *function error*): Lambda has the event, retries it
 *   `MaximumRetryAttempts` times with one and then two minutes between the attempts, drops it when it
 *   is older than `MaximumEventAgeInSeconds`, and then sends an invocation record to the function's
 *   on-failure destination
 *   (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html,
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventinvokeconfig.html).
 *
 * The destination is a JSON-lines file per function, `<dir>/<function name>.jsonl` (mode 0600),
 * one invocation record per line in the shape Lambda sends to an SQS destination
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
 *
 * Locally every wait is scaled (ScaledClock; the platform's default 0.001 turns Lambda's 60 s and
 * 120 s into 60 ms and 120 ms); the event's age counts those waits at their AWS length (and the
 * runs as long as they took), so a sequence of failures ends the way it would in AWS, only sooner.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  ASYNC_MAX_EVENT_AGE_SECONDS,
  ASYNC_RETRY_ATTEMPTS,
  ASYNC_RETRY_DELAYS_SECONDS,
} from '#shared/events/delivery-policy';

/** The Lambda service could not take the invocation at all. Not a function error: nothing ran. */
export class FunctionUnreachable extends Error {
  override readonly name = 'FunctionUnreachable';
  constructor(
    /** The Invoke API's error: `ResourceNotFoundException` (no such function) or `ServiceException`. */
    readonly errorCode: 'ResourceNotFoundException' | 'ServiceException',
    message: string,
  ) {
    super(message);
  }

  /** Whether a caller's retry can help: the service coming back can, a missing function cannot. */
  get retryable(): boolean {
    return this.errorCode === 'ServiceException';
  }
}

/** A function error as the Node.js runtime reports it (`errorType` is the error's `name`). */
export interface FunctionErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  /** The stack, line by line: the Node.js runtime calls it `trace` (other runtimes `stackTrace`). */
  readonly trace: readonly string[];
}

/**
 * What Lambda sends to an on-failure destination. `responseContext` and `responsePayload` are the
 * last attempt's: status 200 (the Invoke call itself succeeded), `functionError: Unhandled`.
 */
export interface FailedInvocationRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetriesExhausted' | 'EventAgeExceeded';
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: unknown;
  readonly responseContext: {
    readonly statusCode: 200;
    readonly executedVersion: '$LATEST';
    readonly functionError: 'Unhandled';
  };
  readonly responsePayload: FunctionErrorPayload;
}

/** `AWS::Lambda::EventInvokeConfig` of a function. */
export interface AsyncInvokeConfig {
  /** 0 to 2. */
  readonly maximumRetryAttempts: number;
  /** 60 to 21600. */
  readonly maximumEventAgeInSeconds: number;
}

/** What the CDK app configures for every consumer and job (infra/constructs/failed-invocations.ts). */
export const DEFAULT_ASYNC_INVOKE_CONFIG: AsyncInvokeConfig = {
  maximumRetryAttempts: ASYNC_RETRY_ATTEMPTS,
  maximumEventAgeInSeconds: ASYNC_MAX_EVENT_AGE_SECONDS,
};

/** A function as Lambda's queue knows it. */
export interface AsyncTarget {
  readonly functionName: string;
  readonly functionArn: string;
  /** Runs the handler once (a synchronous invocation); rejects with its error. */
  readonly run: (payload: unknown) => Promise<unknown>;
  /** @default DEFAULT_ASYNC_INVOKE_CONFIG */
  readonly config?: AsyncInvokeConfig;
}

/**
 * The local platform's waits for AWS's timings: every wait is `scale` times as long as in AWS, and
 * a stopping platform can `hurry()` them all (the retries still run, at once).
 */
export class ScaledClock {
  readonly scale: number;
  readonly #sleeping = new Set<() => void>();
  #hurried = false;

  /** @param scale multiplies every AWS wait: in (0, 1], 1 is as in AWS. */
  constructor(scale = 1) {
    if (!(scale > 0 && scale <= 1)) throw new Error(`The time scale must be in (0, 1], not ${scale}`);
    this.scale = scale;
  }

  /** The local length of an AWS duration. */
  ms(awsMs: number): number {
    return awsMs * this.scale;
  }

  /** Waits what AWS waits `awsMs`, scaled. */
  sleep(awsMs: number): Promise<void> {
    if (this.#hurried) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, this.ms(awsMs));
      this.#sleeping.add(wake);
    });
  }

  /** Ends every wait now, and every later one at once. */
  hurry(): void {
    this.#hurried = true;
    for (const wake of [...this.#sleeping]) wake();
  }
}

export interface LocalLambdaQueueOptions {
  /** Where the on-failure destination files are made (created on the first record, mode 0700). */
  readonly failedInvocationsDir: string;
  /** @default new ScaledClock(1): AWS's waits */
  readonly clock?: ScaledClock;
  readonly onFailedInvocation?: (record: FailedInvocationRecord) => void;
}

/** The on-failure destination file of a function. */
export const failedInvocationsFile = (dir: string, functionName: string) =>
  path.join(dir, `${functionName}.jsonl`);

/** Lambda's asynchronous event queue, for the local functions. */
export class LocalLambdaQueue {
  readonly #options: LocalLambdaQueueOptions;
  readonly #clock: ScaledClock;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: LocalLambdaQueueOptions) {
    this.#options = options;
    this.#clock = options.clock ?? new ScaledClock(1);
  }

  /**
   * `Invoke` with `InvocationType: Event`. Resolves once Lambda has the event — the first attempt
   * reached the function, whatever it answered — and rejects with `FunctionUnreachable` when it did
   * not, with nothing queued. Retries and the on-failure record follow in the background
   * (`drain()` waits for them).
   */
  async invoke(target: AsyncTarget, payload: unknown): Promise<void> {
    const began = performance.now();
    try {
      await target.run(payload);
      return;
    } catch (error) {
      if (error instanceof FunctionUnreachable) throw error;
      const retries = this.#retry(target, payload, performance.now() - began, error);
      this.#inFlight.add(retries);
      void retries.finally(() => this.#inFlight.delete(retries));
    }
  }

  /** Resolves when no invocation is waiting for a retry or its on-failure record. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  get busy(): boolean {
    return this.#inFlight.size > 0;
  }

  async #retry(
    target: AsyncTarget,
    payload: unknown,
    firstRunMs: number,
    firstError: unknown,
  ): Promise<void> {
    const config = target.config ?? DEFAULT_ASYNC_INVOKE_CONFIG;
    const clock = this.#clock;
    // The event's age as AWS would see it: Lambda's waits at their AWS length, the runs as long as
    // they really took (they are not scaled, so a slow local cold start does not age an event by hours).
    let age = firstRunMs;
    const maxAge = config.maximumEventAgeInSeconds * 1000;
    let lastError = firstError;
    let attempts = 1;
    for (let retry = 0; retry < config.maximumRetryAttempts; retry++) {
      const delay = (ASYNC_RETRY_DELAYS_SECONDS[retry] ?? 120) * 1000;
      if (age + delay > maxAge) {
        // Lambda discards the event when it outlives the maximum age, before the next attempt.
        await clock.sleep(Math.max(0, maxAge - age));
        await this.#sendToDestination(target, payload, 'EventAgeExceeded', attempts, lastError);
        return;
      }
      await clock.sleep(delay);
      age += delay;
      attempts += 1;
      const began = performance.now();
      try {
        await target.run(payload);
        return;
      } catch (error) {
        lastError = error;
      } finally {
        age += performance.now() - began;
      }
    }
    await this.#sendToDestination(target, payload, 'RetriesExhausted', attempts, lastError);
  }

  async #sendToDestination(
    target: AsyncTarget,
    payload: unknown,
    condition: FailedInvocationRecord['requestContext']['condition'],
    attempts: number,
    error: unknown,
  ): Promise<void> {
    const record: FailedInvocationRecord = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: randomUUID(),
        functionArn: `${target.functionArn}:$LATEST`,
        condition,
        approximateInvokeCount: attempts,
      },
      requestPayload: payload,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: functionErrorPayload(error),
    };
    const { failedInvocationsDir } = this.#options;
    await mkdir(failedInvocationsDir, { recursive: true, mode: 0o700 });
    const file = failedInvocationsFile(failedInvocationsDir, target.functionName);
    await appendFile(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    this.#options.onFailedInvocation?.(record);
  }
}

/** The error document the Node.js runtime makes of a thrown value. */
export function functionErrorPayload(error: unknown): FunctionErrorPayload {
  if (error instanceof Error) {
    const trace = 'trace' in error && Array.isArray(error.trace) ? (error.trace as string[]) : undefined;
    return {
      errorType: error.name,
      errorMessage: error.message,
      trace: trace ?? (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}
