import { randomUUID } from 'node:crypto';
import { appendFile, chmod } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { EventBridgeEvent, SQSEvent } from 'aws-lambda';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '#shared/config';
import type { EventCatalog } from '#shared/events/catalog';
import { VISIBILITY_TIMEOUT_FACTOR } from '#shared/events/delivery-policy';
import type { EventSubscription } from '#shared/events/subscriptions';
import { type FailedInvocationRecord, LocalLambdaQueue, ScaledClock } from './async-invoke.ts';
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
import { LOCAL_ACCOUNT, REGION } from './local-functions.ts';
import { type FailedMessage, LocalQueue, type QueueSettings, queueArnOf } from './sqs-queue.ts';

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

export interface LocalEventBusOptions {
  readonly busName: string;
  readonly catalog: EventCatalog;
  readonly subscriptions: readonly EventSubscription[];
  /**
   * One synchronous invocation of the subscription's consumer with a batch of its queue's messages:
   * resolves with the handler's answer (its partial batch response), rejects with its error.
   */
  readonly deliver: (subscription: EventSubscription, event: SQSEvent) => Promise<unknown>;
  /**
   * Each subscription's queue and event source mapping, as the templates set them; undefined when
   * the templates have no queue for it (the rule's target does not exist: its events are
   * dead-lettered). @default from the subscription's delivery (queueSettingsOf)
   */
  readonly queueSettings?: (subscription: EventSubscription) => QueueSettings | undefined;
  /**
   * Where each queue's dead-letter queue is written, `<dir>/<queue name>.jsonl`.
   * @default `failed-messages` beside the dead-letter file
   */
  readonly failedMessagesDir?: string;
  /**
   * The rules' dead-letter queue: JSON lines of the events EventBridge could not deliver to a
   * consumer's function, each as SQS hands the message out (`Body` is the event).
   */
  readonly deadLetterFile: string;
  /** The on-failure destinations of what is invoked asynchronously (the jobs), `<dir>/<function name>.jsonl`. */
  readonly failedInvocationsDir: string;
  /** Multiplies every AWS wait, EventBridge's and Lambda's (1: as in AWS). @default 1 */
  readonly timeScale?: number;
  readonly onDeadLetter?: (letter: DeadLetter, event: BusEvent) => void;
  readonly onFailedInvocation?: (record: FailedInvocationRecord) => void;
  readonly onFailedMessage?: (subscription: EventSubscription, message: FailedMessage) => void;
  readonly onConsumerError?: (subscription: EventSubscription, error: unknown) => void;
  /**
   * Every event the bus accepted, once its consumers' queues have it: the rules whose target is
   * not a consumer (the audit archive's Firehose stream, infra/local/audit-archive.ts).
   */
  readonly onAccepted?: (event: BusEvent) => void;
}

/**
 * A subscription's queue as the CDK app makes it (infra/constructs/event-consumers.ts), for a bus
 * without templates: its delivery's batch size, window and receive count, a visibility timeout of
 * six times the consumers' timeout (DEFAULT_FUNCTION_TIMEOUT_SECONDS).
 */
export function queueSettingsOf(subscription: EventSubscription): QueueSettings {
  const queueName = `tenantry-local-${subscription.name}-queue`;
  return {
    queueName,
    queueArn: queueArnOf(queueName),
    visibilityTimeoutSeconds: DEFAULT_FUNCTION_TIMEOUT_SECONDS * VISIBILITY_TIMEOUT_FACTOR,
    maxReceiveCount: subscription.delivery.maxReceiveCount,
    batchSize: subscription.delivery.batchSize,
    batchingWindowSeconds: subscription.delivery.batchingWindowSeconds,
    reportBatchItemFailures: true,
  };
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
 * catalog, and each matching rule sends the event to its subscription's queue (LocalQueue), which
 * its consumer reads in batches, as the CDK app wires it: rule → SQS queue → Lambda event source
 * mapping with partial batch responses → dead-letter queue after `maxReceiveCount` receives. A rule
 * whose queue does not exist dead-letters the event (the rule's dead-letter file, with
 * EventBridge's attributes), as EventBridge does with a target it cannot reach.
 *
 * Unlike EventBridge it rejects entries that are not in the catalog, which catches publisher bugs
 * locally. Lambda's asynchronous queue (`lambda`) is kept for what is invoked asynchronously: the
 * scheduled jobs.
 */
export class LocalEventBus {
  readonly #options: LocalEventBusOptions;
  readonly #clock: ScaledClock;
  readonly #lambda: LocalLambdaQueue;
  readonly #queues = new Map<string, LocalQueue | null>();
  readonly #letters = new Set<Promise<void>>();
  #hurried = false;

  constructor(options: LocalEventBusOptions) {
    this.#options = options;
    this.#clock = new ScaledClock(options.timeScale ?? 1);
    this.#lambda = new LocalLambdaQueue({
      failedInvocationsDir: options.failedInvocationsDir,
      clock: this.#clock,
      onFailedInvocation: options.onFailedInvocation,
    });
  }

  /** Lambda's asynchronous queue of the jobs (and of whatever else shares it). */
  get lambda(): LocalLambdaQueue {
    return this.#lambda;
  }

  /** The queue of a subscription (by name), once an event was sent to it. */
  queue(name: string): LocalQueue | undefined {
    return this.#queues.get(name) ?? undefined;
  }

  putEvents(entries: readonly PutEventsEntry[]): PutEventsResult[] {
    return entries.map((entry) => this.#accept(entry));
  }

  /**
   * Resolves when every event sent so far has been consumed: its queue empty (deleted, or moved to
   * the dead-letter queue after its receives), or dead-lettered by its rule; and Lambda's
   * asynchronous queue idle.
   */
  async drain(): Promise<void> {
    for (;;) {
      const queues = [...this.#queues.values()].filter((queue): queue is LocalQueue => queue !== null);
      if (this.#letters.size === 0 && !this.#lambda.busy && queues.every((queue) => queue.size === 0)) return;
      await Promise.allSettled([...this.#letters]);
      await Promise.all(queues.map((queue) => queue.drained()));
      await this.#lambda.drain();
    }
  }

  /** Ends every wait (batching windows, visibility timeouts, retries) now, and every later one at once (a stop). */
  hurry(): void {
    this.#hurried = true;
    this.#clock.hurry();
    for (const queue of this.#queues.values()) queue?.hurry();
  }

  #queueFor(subscription: EventSubscription): LocalQueue | null {
    const known = this.#queues.get(subscription.name);
    if (known !== undefined) return known;
    const settings = (this.#options.queueSettings ?? queueSettingsOf)(subscription);
    const queue = settings
      ? new LocalQueue({
          settings,
          clock: this.#clock,
          failedMessagesDir:
            this.#options.failedMessagesDir ??
            path.join(path.dirname(this.#options.deadLetterFile), 'failed-messages'),
          invoke: (event) => this.#options.deliver(subscription, event),
          onFailedMessage: (message) => this.#options.onFailedMessage?.(subscription, message),
          onInvocationError: (error) => this.#options.onConsumerError?.(subscription, error),
        })
      : null;
    if (this.#hurried) queue?.hurry();
    this.#queues.set(subscription.name, queue);
    return queue;
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
      const queue = this.#queueFor(subscription);
      if (queue) {
        // The rule's SQS target sends the event itself as the message body.
        queue.send(JSON.stringify(event));
        continue;
      }
      const letter = this.#deadLetter(subscription, event, 'NO_RESOURCE', 'The target queue does not exist');
      this.#letters.add(letter);
      void letter.finally(() => this.#letters.delete(letter));
    }
    this.#options.onAccepted?.(event);
    return { EventId: event.id };
  }

  async #deadLetter(
    subscription: EventSubscription,
    event: BusEvent,
    code: string,
    message: string,
  ): Promise<void> {
    const attribute = (value: string) => ({ DataType: 'String' as const, StringValue: value });
    const { queueArn } = queueSettingsOf(subscription);
    const letter: DeadLetter = {
      MessageId: randomUUID(),
      Body: JSON.stringify(event),
      MessageAttributes: {
        RULE_ARN: attribute(
          `arn:aws:events:${REGION}:${LOCAL_ACCOUNT}:rule/${this.#options.busName}/${subscription.name}`,
        ),
        TARGET_ARN: attribute(queueArn),
        ERROR_CODE: attribute(code),
        ERROR_MESSAGE: attribute(message),
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
