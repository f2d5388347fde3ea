import { randomUUID } from 'node:crypto';
import { appendFile, chmod } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { EventBridgeEvent } from 'aws-lambda';
import type { EventCatalog } from '#shared/events/catalog';
import {
  CONSUMER_TARGET_MAX_EVENT_AGE_SECONDS,
  CONSUMER_TARGET_RETRY_ATTEMPTS,
} from '#shared/events/delivery-policy';
import type { EventSubscription } from '#shared/events/subscriptions';
import {
  type AsyncInvokeConfig,
  type AsyncTarget,
  type FailedInvocationRecord,
  FunctionUnreachable,
  LocalLambdaQueue,
  ScaledClock,
} from './async-invoke.ts';
import { listenOnLoopback } from './engines/ports.ts';
import {
  type Authorize,
  accessDeniedMessage,
  accessKeyIdOf,
  allowAll,
  EXPIRED_TOKEN_MESSAGE,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
} from './iam/access.ts';
import { arnsIn } from './iam/physical-names.ts';
import { LOCAL_ACCOUNT, localFunctionArn, localFunctionName, REGION } from './local-functions.ts';

export type BusEvent = EventBridgeEvent<string, unknown>;

export interface PutEventsEntry {
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly EventBusName?: string;
  readonly Time?: string | number;
  readonly Resources?: string[];
}

export type PutEventsResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** A rule target's `RetryPolicy`: how long EventBridge keeps trying to deliver an event. */
export interface TargetRetryPolicy {
  /** 0 to 185. */
  readonly maximumRetryAttempts: number;
  /** 60 to 86400. */
  readonly maximumEventAgeInSeconds: number;
}

/** What the CDK app gives every consumer's rule target (infra/constructs/event-consumers.ts). */
export const CONSUMER_TARGET_RETRY_POLICY: TargetRetryPolicy = {
  maximumRetryAttempts: CONSUMER_TARGET_RETRY_ATTEMPTS,
  maximumEventAgeInSeconds: CONSUMER_TARGET_MAX_EVENT_AGE_SECONDS,
};

export interface LocalEventBusOptions {
  readonly busName: string;
  readonly catalog: EventCatalog;
  readonly subscriptions: readonly EventSubscription[];
  /**
   * One synchronous invocation of the subscription's consumer with the event: resolves when the
   * handler succeeded, rejects with its error, or with `FunctionUnreachable` (async-invoke.ts) when
   * the function could not be invoked at all.
   */
  readonly deliver: (subscription: EventSubscription, event: BusEvent) => Promise<void>;
  /**
   * The rules' dead-letter queue: JSON lines of the events EventBridge could not deliver to a
   * consumer's function, each as SQS hands the message out (`Body` is the event).
   */
  readonly deadLetterFile: string;
  /** Each consumer's on-failure destination, `<dir>/<function name>.jsonl` (async-invoke.ts). */
  readonly failedInvocationsDir: string;
  /** Multiplies every AWS wait, EventBridge's and Lambda's (1: as in AWS). @default 1 */
  readonly timeScale?: number;
  /** Lambda's asynchronous invocation config of every consumer. @default as the CDK app's */
  readonly asyncInvokeConfig?: AsyncInvokeConfig;
  /** The rule targets' retry policy. @default CONSUMER_TARGET_RETRY_POLICY, as the CDK app's */
  readonly targetRetryPolicy?: TargetRetryPolicy;
  readonly onDeadLetter?: (letter: DeadLetter, event: BusEvent) => void;
  readonly onFailedInvocation?: (record: FailedInvocationRecord) => void;
}

/** The SQS message attributes EventBridge adds to a dead-lettered event. */
export type DeadLetterAttribute = 'RULE_ARN' | 'TARGET_ARN' | 'ERROR_CODE' | 'ERROR_MESSAGE';

/**
 * An event EventBridge could not deliver, as a message of the rule's dead-letter queue
 * (`aws sqs receive-message` shows it so): the body is the event, the attributes say which rule and
 * target and why (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
 */
export interface DeadLetter {
  readonly MessageId: string;
  readonly Body: string;
  readonly MessageAttributes: Record<
    DeadLetterAttribute,
    { readonly DataType: 'String'; readonly StringValue: string }
  >;
  readonly Attributes: { readonly SentTimestamp: string };
}

/**
 * The local EventBridge: rules come from the subscriptions, entries are checked against the event
 * catalog, and each matching consumer is invoked asynchronously, as EventBridge invokes a Lambda
 * target. The two failure paths of AWS stay apart:
 *
 * - the function cannot be invoked (no such function: not retried; the Lambda service gone:
 *   retried per the target's retry policy, 1 s doubling): the event goes to the rule's dead-letter
 *   file with EventBridge's attributes;
 * - the function runs and fails: Lambda's retries and on-failure destination (LocalLambdaQueue);
 *   EventBridge's delivery had succeeded, so the rule's dead-letter file never sees it.
 *
 * Unlike EventBridge it rejects entries that are not in the catalog, which catches publisher bugs
 * locally.
 */
export class LocalEventBus {
  readonly #options: LocalEventBusOptions;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #clock: ScaledClock;
  readonly #lambda: LocalLambdaQueue;

  constructor(options: LocalEventBusOptions) {
    this.#options = options;
    this.#clock = new ScaledClock(options.timeScale ?? 1);
    this.#lambda = new LocalLambdaQueue({
      failedInvocationsDir: options.failedInvocationsDir,
      clock: this.#clock,
      onFailedInvocation: options.onFailedInvocation,
    });
  }

  /** Lambda's asynchronous queue of the consumers (and of whatever else shares it). */
  get lambda(): LocalLambdaQueue {
    return this.#lambda;
  }

  putEvents(entries: readonly PutEventsEntry[]): PutEventsResult[] {
    return entries.map((entry) => this.#accept(entry));
  }

  /**
   * Resolves when every delivery started so far has finished: delivered and done, retried by Lambda
   * until it succeeded or left its on-failure record, or dead-lettered.
   */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#lambda.busy) {
      await Promise.allSettled([...this.#inFlight]);
      await this.#lambda.drain();
    }
  }

  /** Ends every wait of EventBridge's and Lambda's retries now, and every later one at once (a stop). */
  hurry(): void {
    this.#clock.hurry();
  }

  #accept(entry: PutEventsEntry): PutEventsResult {
    const { busName, catalog, subscriptions } = this.#options;
    if (entry.EventBusName && entry.EventBusName !== busName && !entry.EventBusName.endsWith(`/${busName}`)) {
      return {
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: `Event bus ${entry.EventBusName} does not exist`,
      };
    }
    const definition = catalog
      .list()
      .find((d) => d.detailType === entry.DetailType && d.source === entry.Source);
    if (!definition) {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `${entry.Source}/${entry.DetailType} is not in the catalog`,
      };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail ?? '');
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' };
    }
    if (!definition.schema.safeParse(detail).success) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: `Detail does not match ${definition.detailType}` };
    }
    const time = entry.Time === undefined ? new Date() : new Date(entry.Time);
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': definition.detailType,
      source: definition.source,
      account: '000000000000',
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'local',
      resources: entry.Resources ?? [],
      detail,
    };
    for (const subscription of subscriptions) {
      if (!subscription.detailTypes.includes(definition.detailType)) continue;
      const delivery = this.#deliverWithRetries(subscription, event);
      this.#inFlight.add(delivery);
      void delivery.finally(() => this.#inFlight.delete(delivery));
    }
    return { EventId: event.id };
  }

  async #deliverWithRetries(subscription: EventSubscription, event: BusEvent): Promise<void> {
    const policy = this.#options.targetRetryPolicy ?? CONSUMER_TARGET_RETRY_POLICY;
    const clock = this.#clock;
    const target: AsyncTarget = {
      functionName: localFunctionName(subscription.handler),
      functionArn: localFunctionArn(subscription.handler),
      run: () => this.#options.deliver(subscription, event),
      config: this.#options.asyncInvokeConfig,
    };
    // The event's age as AWS would see it: the waits at their AWS length, the attempts as they took.
    let age = 0;
    for (let retry = 0; ; retry++) {
      const began = performance.now();
      try {
        await this.#lambda.invoke(target, event);
        return;
      } catch (error) {
        age += performance.now() - began;
        const unreachable =
          error instanceof FunctionUnreachable
            ? error
            : new FunctionUnreachable(
                'ServiceException',
                error instanceof Error ? error.message : String(error),
              );
        // EventBridge's backoff is "exponential with jitter" and not documented further: 1 s doubling here.
        const delay = 1000 * 2 ** retry;
        const outOfTime = age + delay > policy.maximumEventAgeInSeconds * 1000;
        if (!unreachable.retryable || retry >= policy.maximumRetryAttempts || outOfTime) {
          await this.#deadLetter(subscription, event, target, unreachable);
          return;
        }
        await clock.sleep(delay);
        age += delay;
      }
    }
  }

  async #deadLetter(
    subscription: EventSubscription,
    event: BusEvent,
    target: AsyncTarget,
    failure: FunctionUnreachable,
  ): Promise<void> {
    const attribute = (value: string) => ({ DataType: 'String' as const, StringValue: value });
    const letter: DeadLetter = {
      MessageId: randomUUID(),
      Body: JSON.stringify(event),
      MessageAttributes: {
        RULE_ARN: attribute(
          `arn:aws:events:${REGION}:${LOCAL_ACCOUNT}:rule/${this.#options.busName}/${subscription.name}`,
        ),
        TARGET_ARN: attribute(target.functionArn),
        // Lambda's "no such function" is EventBridge's NO_RESOURCE; which code a Lambda service
        // error gets is not documented, ERROR_FROM_TARGET is the local choice.
        ERROR_CODE: attribute(
          failure.errorCode === 'ResourceNotFoundException' ? 'NO_RESOURCE' : 'ERROR_FROM_TARGET',
        ),
        ERROR_MESSAGE: attribute(failure.message),
      },
      Attributes: { SentTimestamp: String(Date.now()) },
    };
    await appendFile(this.#options.deadLetterFile, `${JSON.stringify(letter)}\n`, { mode: 0o600 });
    await chmod(this.#options.deadLetterFile, 0o600);
    this.#options.onDeadLetter?.(letter, event);
  }
}

/**
 * Serves the EventBridge `PutEvents` call (JSON 1.1 protocol) so that publishers use the same
 * `@aws-sdk/client-eventbridge` code locally, pointed here by `AWS_ENDPOINT_URL_EVENTBRIDGE`.
 */
export async function startEventBusEndpoint(
  bus: LocalEventBus,
  options: { host: string; port: number; authorize?: Authorize },
): Promise<{ endpoint: string; port: number; stop(): Promise<void> }> {
  const authorize = options.authorize ?? allowAll;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(body));
      };
      if (request.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
        reply(400, { __type: 'UnknownOperationException', message: 'Only PutEvents is served locally' });
        return;
      }
      let entries: PutEventsEntry[];
      try {
        entries =
          (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries?: PutEventsEntry[] }).Entries ??
          [];
      } catch {
        reply(400, { __type: 'SerializationException', message: 'Malformed request' });
        return;
      }
      if (entries.length === 0 || entries.length > 10) {
        reply(400, { __type: 'ValidationException', message: 'PutEvents takes 1 to 10 entries' });
        return;
      }
      const denials = await putEventsDenials(
        authorize,
        accessKeyIdOf(request.headers.authorization),
        entries,
      );
      // An expired session's key is refused as a whole, before any entry is judged
      // (https://docs.aws.amazon.com/eventbridge/latest/APIReference/CommonErrors.html).
      if (denials.includes(EXPIRED_TOKEN_MESSAGE)) {
        reply(403, { __type: 'ExpiredTokenException', message: EXPIRED_TOKEN_MESSAGE });
        return;
      }
      const firstDenial = denials.find((denial) => denial !== undefined);
      if (firstDenial !== undefined && denials.every((denial) => denial !== undefined)) {
        reply(400, { __type: 'AccessDeniedException', message: firstDenial });
        return;
      }
      const allowedEntries = entries.filter((_, index) => denials[index] === undefined);
      const accepted = bus.putEvents(allowedEntries).values();
      // Results in the order of the request: refused entries where they were, the bus's answers between.
      const results = denials.map(
        (denial): PutEventsResult =>
          denial === undefined
            ? (accepted.next().value as PutEventsResult)
            : { ErrorCode: 'AccessDeniedException', ErrorMessage: denial },
      );
      reply(200, { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results });
    });
  });
  const port = await listenOnLoopback(server, options.port, 'EventBridge endpoint');
  return {
    endpoint: `http://${options.host}:${port}`,
    port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Each entry's refusal message, or undefined where `events:PutEvents` on its bus is allowed.
 * The resource is the bus of the entry (`EventBusName`, a name or an ARN; `default` if absent) and
 * the request context has `events:source` and `events:detail-type`
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html).
 * A refused entry gets `AccessDeniedException`, a per-entry error code of PutEvents
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html);
 * when every entry is refused the whole call is `AccessDeniedException`, as a caller without the
 * grant sees it (https://github.com/awslabs/aws-solutions-constructs/discussions/966).
 */
async function putEventsDenials(
  authorize: Authorize,
  accessKeyId: string | undefined,
  entries: readonly PutEventsEntry[],
): Promise<(string | undefined)[]> {
  return Promise.all(
    entries.map(async (entry) => {
      const bus = entry.EventBusName ?? 'default';
      const resource = bus.startsWith('arn:')
        ? bus
        : arnsIn({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION }).eventBus(bus);
      const context: Record<string, string> = {};
      if (entry.Source !== undefined) context['events:source'] = entry.Source;
      if (entry.DetailType !== undefined) context['events:detail-type'] = entry.DetailType;
      const question = { accessKeyId, action: 'events:PutEvents', resource, context };
      const decision = await authorize(question);
      return decision.allowed ? undefined : accessDeniedMessage(question, decision);
    }),
  );
}
