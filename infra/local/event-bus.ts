import { randomUUID } from 'node:crypto';
import { appendFile, chmod } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { EventBridgeEvent } from 'aws-lambda';
import type { EventCatalog } from '#shared/events/catalog';
import type { EventSubscription } from '#shared/events/subscriptions';
import { listenOnLoopback } from './engines/ports.ts';
import {
  type Authorize,
  accessDeniedMessage,
  accessKeyIdOf,
  allowAll,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
} from './iam/access.ts';

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
  /** Calls the subscription's consumer handler with the event, as a Lambda target would. */
  readonly deliver: (subscription: EventSubscription, event: BusEvent) => Promise<void>;
  /** JSON lines of events no consumer could take after every attempt (the DLQ). */
  readonly deadLetterFile: string;
  /** Attempts per delivery, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** Delay before attempt n+1. @default 50 ms doubling */
  readonly retryDelayMs?: (attempt: number) => number;
  readonly onDeadLetter?: (entry: DeadLetter) => void;
}

export interface DeadLetter {
  readonly subscription: string;
  readonly attempts: number;
  readonly error: string;
  readonly deadLetteredAt: string;
  readonly event: BusEvent;
}

/**
 * The local EventBridge: rules come from the subscriptions, entries are checked against the event
 * catalog, each matching consumer gets the event asynchronously with retries, and what still
 * fails lands in a dead-letter file. Unlike EventBridge it rejects entries that are not in the
 * catalog, which catches publisher bugs locally.
 */
export class LocalEventBus {
  readonly #options: LocalEventBusOptions;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: LocalEventBusOptions) {
    this.#options = options;
  }

  putEvents(entries: readonly PutEventsEntry[]): PutEventsResult[] {
    return entries.map((entry) => this.#accept(entry));
  }

  /** Resolves when every delivery started so far has finished (or been dead-lettered). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
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
    const maxAttempts = this.#options.maxAttempts ?? 3;
    const delay = this.#options.retryDelayMs ?? ((attempt: number) => 50 * 2 ** (attempt - 1));
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        await this.#options.deliver(subscription, event);
        return;
      } catch (error) {
        lastError = error;
        if (attempt < maxAttempts) await new Promise((resolve) => setTimeout(resolve, delay(attempt)));
      }
    }
    const deadLetter: DeadLetter = {
      subscription: subscription.name,
      attempts: maxAttempts,
      error: lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError),
      deadLetteredAt: new Date().toISOString(),
      event,
    };
    await appendFile(this.#options.deadLetterFile, `${JSON.stringify(deadLetter)}\n`, { mode: 0o600 });
    await chmod(this.#options.deadLetterFile, 0o600);
    this.#options.onDeadLetter?.(deadLetter);
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
        : `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:event-bus/${bus}`;
      const context: Record<string, string> = {};
      if (entry.Source !== undefined) context['events:source'] = entry.Source;
      if (entry.DetailType !== undefined) context['events:detail-type'] = entry.DetailType;
      const question = { accessKeyId, action: 'events:PutEvents', resource, context };
      const decision = await authorize(question);
      return decision.allowed ? undefined : accessDeniedMessage(question, decision);
    }),
  );
}
