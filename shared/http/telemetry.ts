import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { MiddlewareObj } from '@middy/core';
import { EventBridgePublisher } from '#shared/adapters/eventbridge-publisher';
import { FileDeadLetterSink } from '#shared/adapters/file-dead-letter';
import { SqsDeadLetterSink } from '#shared/adapters/sqs-dead-letter';
import { TENANT_ID_PATTERN } from '#shared/control/ids';
import { logger } from '#shared/core/logger';
import { AuditRecord, MetricSample, UsageRecorded } from '#shared/events/events';
import { type HttpEvent, type HttpRequest, type HttpResponse, stateOf } from '#shared/http/middleware';
import {
  type DeadLetterSink,
  type EventPublisher,
  type OutgoingEvent,
  outgoing,
} from '#shared/ports/event-publisher';
import type { RouteSpec } from '#shared/routes/types';

// ---------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------

export const REDACTED = '[redacted]';

/** Keys whose values are never recorded, whatever they hold. */
const SECRET_KEY =
  /pass(word|phrase|wd)?|secret|token|credential|api[-_]?key|auth(orization)?$|private[-_]?key|session|cookie|signature|^pin$|otp|cvv|card[-_]?number/i;

/** Values that look like credentials wherever they appear. */
const SECRET_VALUES: readonly RegExp[] = [
  /^Bearer\s+\S+/i,
  /^Basic\s+[A-Za-z0-9+/=]+$/i,
  /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/, // JWT
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/, // AWS access key id
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\b(sk|pk|rk)_(live|test)_[A-Za-z0-9]{10,}/, // payment provider keys
  /\bgh[pousr]_[A-Za-z0-9]{30,}/, // GitHub tokens
  /:\/\/[^/\s:@]+:[^/\s@]+@/, // credentials in a URL or connection string
];

/** Long unbroken runs of base64/hex with letters and digits: generated secrets, not prose or ids. */
const HIGH_ENTROPY = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9+/=_-]{40,}$/;

const MAX_DEPTH = 4;
const MAX_STRING = 256;
const MAX_ITEMS = 20;
const MAX_KEYS = 30;
/** The detail is one of up to 3 entries in one PutEvents call (256 KiB in all). */
export const MAX_DETAILS_BYTES = 4096;

export function isSecretValue(value: string): boolean {
  return SECRET_VALUES.some((pattern) => pattern.test(value)) || HIGH_ENTROPY.test(value);
}

/**
 * A copy of `value` safe to keep in an audit record: values under secret-looking keys and
 * secret-looking values are replaced, long strings cut, deep or wide structures bounded.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (isSecretValue(value)) return REDACTED;
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  }
  if (depth >= MAX_DEPTH) return '[nested]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => redact(item, depth + 1));
    return value.length > MAX_ITEMS ? [...items, `[+${value.length - MAX_ITEMS} more]`] : items;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [key, inner] of entries.slice(0, MAX_KEYS)) {
      out[key] = SECRET_KEY.test(key) ? REDACTED : redact(inner, depth + 1);
    }
    if (entries.length > MAX_KEYS) out['[more]'] = entries.length - MAX_KEYS;
    return out;
  }
  return String(typeof value);
}

// ---------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------

const camel = (segment: string) => segment.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/**
 * The audit action of a route: `<collection>.<verb>`, where the collection is the last literal
 * segment of the path (`/tenants/{tenantId}/members/{userId}` → `members`) and the verb is the
 * operationId without that collection's noun (`inviteMember` → `invite`, `changeMemberRole` →
 * `changeRole`, `insertRow` → `insert`). So `rows.insert`, `members.invite`, `roles.assign`.
 */
export function actionOf(route: Pick<RouteSpec, 'operationId' | 'path'>): string {
  const literals = route.path.split('/').filter((segment) => segment && !segment.startsWith('{'));
  const collection = camel(literals[literals.length - 1] ?? 'platform');
  const plural = capital(collection);
  const singular = plural.endsWith('s') ? plural.slice(0, -1) : plural;
  let verb = route.operationId;
  for (const noun of [plural, singular]) {
    const at = verb.indexOf(noun, 1);
    if (at > 0 && !/[a-z]/.test(verb.charAt(at + noun.length))) {
      verb = verb.slice(0, at) + verb.slice(at + noun.length);
      break;
    }
  }
  return `${collection}.${verb}`;
}

// ---------------------------------------------------------------------------------------------
// Records of one request
// ---------------------------------------------------------------------------------------------

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export type Outcome = 'success' | 'denied' | 'failed';

/** 401 and 403 are refusals; a 404 is one when authorisation, not the use case, gave it. */
export function outcomeOf(status: number, authorised: boolean): Outcome {
  if (status < 400) return 'success';
  if (status === 401 || status === 403 || (status === 404 && !authorised)) return 'denied';
  return 'failed';
}

function boundedDetails(details: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(details);
  if (Buffer.byteLength(text, 'utf8') <= MAX_DETAILS_BYTES) return details;
  return { method: details.method, truncated: true, fields: Object.keys((details.body as object) ?? {}) };
}

function rawBodyKeys(event: HttpEvent): string[] {
  if (!event.body) return [];
  try {
    const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const parsed = JSON.parse(raw) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.keys(parsed)
        .slice(0, MAX_KEYS)
        .map((key) => String(redact(key)));
    }
  } catch {
    // Not JSON: nothing of it is recorded.
  }
  return [];
}

/**
 * The records of one finished request: an Audit Record when it mutates, a Usage Recorded
 * (`api_calls`) when a tenant was authorised (a tenant is never billed for calls others make
 * against its id), and a Metric Sample always.
 */
export function recordsOf(
  route: RouteSpec,
  event: HttpEvent,
  statusCode: number,
  now: Date = new Date(),
): OutgoingEvent[] {
  const state = stateOf(event);
  const at = now.toISOString();
  const pathTenant = event.pathParameters?.tenantId;
  const knownTenant = pathTenant && TENANT_ID_PATTERN.test(pathTenant) ? pathTenant : null;
  const authorisedTenant = state.grant?.tenantId ?? null;
  const records: OutgoingEvent[] = [];
  if (MUTATING.has(route.method)) {
    // The validated body only: strict schemas already dropped what no route accepts. A body that
    // failed validation is recorded by its (redacted) field names, never its values.
    const details: Record<string, unknown> = { method: route.method, operationId: route.operationId };
    if (state.body !== undefined) details.body = redact(state.body);
    else {
      const keys = rawBodyKeys(event);
      if (keys.length > 0) details.rejectedFields = keys;
    }
    records.push(
      outgoing(AuditRecord, {
        tenantId: authorisedTenant ?? knownTenant,
        userId: state.caller?.userId ?? 'anonymous',
        action: actionOf(route),
        resource: event.rawPath ?? route.path,
        outcome: outcomeOf(statusCode, authorisedTenant !== null),
        statusCode,
        requestId: state.requestId,
        at,
        details: boundedDetails(details),
      }),
    );
  }
  if (authorisedTenant) {
    records.push(
      outgoing(UsageRecorded, {
        tenantId: authorisedTenant,
        resourceType: 'api_calls',
        quantity: 1,
        unit: 'calls',
        at,
      }),
    );
  }
  records.push(
    outgoing(MetricSample, {
      tenantId: authorisedTenant,
      operationId: route.operationId,
      statusCode,
      latencyMs: Math.max(0, now.getTime() - state.startedAt),
      at,
    }),
  );
  return records;
}

// ---------------------------------------------------------------------------------------------
// Emission
// ---------------------------------------------------------------------------------------------

/** Counters of this process, for logs and tests. */
export const telemetryCounters = { published: 0, publishFailures: 0, deadLettered: 0, lost: 0 };

export interface TelemetrySink {
  readonly publisher: EventPublisher;
  readonly deadLetters: DeadLetterSink;
}

/** A CloudWatch metric through the embedded metric format: a log line, no extra call. */
function countFailure(name: string, value: number): void {
  // Only Lambda's log pipeline turns the line into a metric; elsewhere the warning log says it.
  if (!process.env.AWS_LAMBDA_FUNCTION_NAME) return;
  process.stdout.write(
    `${JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          { Namespace: 'Tenantry', Dimensions: [[]], Metrics: [{ Name: name, Unit: 'Count' }] },
        ],
      },
      [name]: value,
    })}\n`,
  );
}

/**
 * Publishes the records of one request; never throws. Entries the bus refused after the
 * publisher's retry go to the dead-letter sink; if even that fails, the records are logged in
 * full (the last place they can be recovered from) and counted as lost.
 */
export async function emit(sink: TelemetrySink, records: readonly OutgoingEvent[]): Promise<void> {
  try {
    const { failed } = await sink.publisher.publish(records).catch((error: unknown) => ({
      // A publisher that throws has published nothing: all of it goes the dead-letter way.
      failed: records.map((event) => ({
        event,
        code: error instanceof Error ? error.name : 'Error',
        message: error instanceof Error ? error.message : String(error),
      })),
    }));
    telemetryCounters.published += records.length - failed.length;
    if (failed.length === 0) return;
    telemetryCounters.publishFailures += failed.length;
    countFailure('TelemetryPublishFailures', failed.length);
    logger.warn('telemetry records not published', {
      failed: failed.map(({ event, code }) => ({ detailType: event.detailType, code })),
    });
    try {
      await sink.deadLetters.write({ reason: 'publish failed', failed });
      telemetryCounters.deadLettered += failed.length;
    } catch (error) {
      telemetryCounters.lost += failed.length;
      countFailure('TelemetryDeadLetterFailures', failed.length);
      logger.error('telemetry dead letter failed; records follow', { error, records: failed });
    }
  } catch (error) {
    logger.error('telemetry emission failed', { error, records });
  }
}

let defaultSink: TelemetrySink | null | undefined;

/**
 * The sink of the function's configuration: the bus in `EVENT_BUS_NAME`, dead letters to the SQS
 * queue in `TELEMETRY_DLQ_URL` (AWS) or the JSON-lines file in `TELEMETRY_DEAD_LETTER_FILE`
 * (local platform). A function without a bus (the public routes) emits nothing.
 */
export function sinkFromEnvironment(
  env: Record<string, string | undefined> = process.env,
): TelemetrySink | null {
  const eventBusName = env.EVENT_BUS_NAME;
  if (!eventBusName) return null;
  const deadLetters: DeadLetterSink = env.TELEMETRY_DLQ_URL
    ? new SqsDeadLetterSink(new SQSClient({}), env.TELEMETRY_DLQ_URL)
    : env.TELEMETRY_DEAD_LETTER_FILE
      ? new FileDeadLetterSink(env.TELEMETRY_DEAD_LETTER_FILE)
      : {
          write: async (entry) => {
            // No dead-letter path configured: the log is the last resort, said loudly.
            logger.error('telemetry dead letter (no TELEMETRY_DLQ_URL configured)', { entry });
          },
        };
  return {
    // One attempt per call from the SDK: the publisher retries the failed entries itself, once.
    publisher: new EventBridgePublisher({ client: new EventBridgeClient({ maxAttempts: 1 }), eventBusName }),
    deadLetters,
  };
}

export interface TelemetryOptions {
  /** @default the sink of the function's environment, made on first use */
  readonly sink?: () => TelemetrySink | null;
}

/**
 * Audit, usage and metric emission. Registered just inside the request context, so its `after`
 * and `onError` run once the error mapping has set the final response: denied requests are
 * audited too. The response is already computed; the one PutEvents call is awaited because a
 * Lambda function does no work after it returns.
 */
export function telemetry(
  route: RouteSpec,
  options: TelemetryOptions = {},
): MiddlewareObj<HttpEvent, HttpResponse> {
  const sinkOf =
    options.sink ??
    (() => {
      if (defaultSink === undefined) defaultSink = sinkFromEnvironment();
      return defaultSink;
    });
  const finish = async (request: HttpRequest) => {
    try {
      const sink = sinkOf();
      if (!sink) return;
      const status = request.response?.statusCode ?? 500;
      await emit(sink, recordsOf(route, request.event, status));
    } catch (error) {
      logger.error('telemetry failed', { error });
    }
  };
  return { name: 'telemetry', after: finish, onError: finish };
}
