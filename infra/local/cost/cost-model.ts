/**
 * What Tenantry costs per million API requests, per idle tenant and per idle month: the settings
 * read from the synthesized templates (infra/local/cost/deployment.ts) times the prices
 * (infra/local/cost/prices.ts), under the assumptions below. Two designs of the telemetry path:
 *
 * - **before** (until commit 2d1a968): each request put 2–3 EventBridge entries — `Audit Record`
 *   when it mutated, `Usage Recorded` when a tenant was authorised, `Metric Sample` always — and
 *   each entry invoked its own consumer asynchronously. The consumers wrote, per record: audit, one
 *   conditional put; usage, a claim put, a rollup update and an applied mark; a metric sample, a
 *   ledger put, an hour update and a mark (shared/records/event-ledger.ts, usage-store.ts and
 *   metrics-store.ts at 2d1a968^).
 * - **after** (shared/http/request-records.ts, shared/records/record-batch.ts): one `Request
 *   Recorded` entry per request, a rule delivering it to an SQS queue, one consumer invocation per
 *   batch, which writes per event its audit record (mutating requests) and one claim item, per
 *   batch one update per aggregate (a usage rollup per tenant, day and resource type; an hour of
 *   metrics per tenant) and one marker.
 *
 * Pure arithmetic: no AWS calls, nothing random; the same inputs give the same document.
 */

import {
  type Assumptions,
  GOALS,
  HOURS_PER_MONTH,
  MILLION,
  type Scenario,
  SECONDS_PER_MONTH,
} from '#infra/local/cost/assumptions';
import type { ConsumerSettings, Deployment, FunctionSettings } from '#infra/local/cost/deployment';
import type { EventSizes } from '#infra/local/cost/event-sizes';
import { costOf, type PriceId } from '#infra/local/cost/prices';

export * from '#infra/local/cost/assumptions';
export * from '#infra/local/cost/event-sizes';

export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
/** EventBridge bills each 64 KB chunk of an entry as an event; SQS each 64 KB chunk as a request. */
export const BILLING_CHUNK_BYTES = 64 * 1024;
/** Bytes in a billed GB (the larger count of GBs, so the cautious one). */
export const BYTES_PER_GB = 1e9;

// ---------------------------------------------------------------------------------------------
// Batch arithmetic

/**
 * Expected number of distinct tenants among `events` events, each from one of `tenants` tenants
 * chosen uniformly: T·(1 − (1 − 1/T)^n).
 */
export function expectedDistinct(tenants: number, events: number): number {
  if (tenants <= 0 || events <= 0) return 0;
  return tenants * (1 - (1 - 1 / tenants) ** events);
}

/**
 * Events in one consumer invocation: a batch closes when it holds `batchSize` messages or its
 * window ends (or its payload reaches 6 MB: https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html),
 * and the window's messages are shared by `pollers` concurrent batches. At least one.
 */
export function eventsPerBatch(
  consumer: Pick<ConsumerSettings, 'batchSize' | 'batchingWindowSeconds'>,
  requestsPerSecond: number,
  pollers: number,
): number {
  const inWindow = (requestsPerSecond * consumer.batchingWindowSeconds) / Math.max(1, pollers);
  return Math.max(1, Math.min(consumer.batchSize, inWindow));
}

export const invocationsPer1000 = (events: number) => 1000 / events;

/** EventBridge entries one request puts. */
export function entriesPerRequest(design: Design, assumptions: Assumptions): number {
  return design === 'before' ? assumptions.mutatingFraction + assumptions.tenantFraction + 1 : 1;
}

export type Design = 'before' | 'after';

const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / BILLING_CHUNK_BYTES));

// ---------------------------------------------------------------------------------------------
// Per-request quantities

/** What one request causes, before pricing. Fractions are averages over many requests. */
export interface Usage {
  readonly httpApiRequests: number;
  readonly apiInvocations: number;
  readonly apiGbSeconds: number;
  readonly apiLogBytes: number;
  readonly xRayTraces: number;
  readonly dataApiCalls: number;
  readonly eventBridgeEvents: number;
  readonly archivedBytes: number;
  readonly sqsRequests: number;
  readonly consumerInvocations: number;
  readonly consumerGbSeconds: number;
  readonly consumerLogBytes: number;
  readonly dynamoDbWriteUnits: number;
}

export interface TelemetryOptions {
  /** Price DynamoDB writes as provisioned capacity at the assumed utilization. */
  readonly provisionedWrites?: boolean;
  /** The batching window instead of the template's. */
  readonly batchingWindowSeconds?: number;
  /** The API function sends to the queue itself: no EventBridge entry, nothing archived. */
  readonly withoutBus?: boolean;
}

export const gb = (fn: Pick<FunctionSettings, 'memoryMb'>) => fn.memoryMb / 1024;
const meanMemoryMb = (functions: readonly FunctionSettings[]) =>
  functions.reduce((sum, fn) => sum + fn.memoryMb, 0) / Math.max(1, functions.length);

/**
 * X-Ray's default sampling rule records "the initial request every second and an additional 5%"
 * (https://blog.tsypuk.com/posts/2023/03/27/xra-tracing-3.html): traces per request at a steady rate.
 */
export function tracesPerRequest(requestsPerSecond: number): number {
  if (requestsPerSecond <= 1) return 1;
  return (1 + 0.05 * (requestsPerSecond - 1)) / requestsPerSecond;
}

/** Messages one receive returns (at least one, at most ten). */
export function messagesPerReceive(requestsPerSecond: number, assumptions: Assumptions): number {
  const perPoller = requestsPerSecond / Math.max(1, assumptions.pollers);
  return Math.min(10, Math.max(1, perPoller * assumptions.sqsRoundTripSeconds));
}

export interface ScenarioInputs {
  readonly deployment: Deployment;
  readonly scenario: Scenario;
  readonly assumptions: Assumptions;
  readonly sizes: EventSizes;
}

/** The request path without its telemetry: gateway, API function, its logs and traces, the database. */
function requestPathUsage({ deployment, scenario, assumptions }: ScenarioInputs) {
  const memoryGb = meanMemoryMb(deployment.routeFunctions) / 1024;
  return {
    httpApiRequests: 1,
    apiInvocations: 1,
    apiGbSeconds: memoryGb * (assumptions.apiDurationMs / 1000),
    apiLogBytes: assumptions.platformLogBytesPerInvocation + assumptions.logLineBytes,
    xRayTraces: tracesPerRequest(scenario.requestsPerSecond),
    dataApiCalls: assumptions.dataApiCallsPerRequest,
    limitWrites: 1,
  };
}

export interface BatchFigures {
  /** Events per invocation if one batch took the whole window (the fewest invocations). */
  readonly eventsIdeal: number;
  /** Events per invocation with the window shared by the pollers: what the costs use. */
  readonly events: number;
  readonly usageAggregates: number;
  readonly metricAggregates: number;
}

export function batchFigures(
  inputs: ScenarioInputs,
  options: Pick<TelemetryOptions, 'batchingWindowSeconds'> = {},
): BatchFigures {
  const { deployment, scenario, assumptions } = inputs;
  const consumer = {
    batchSize: deployment.recordsConsumer.batchSize,
    batchingWindowSeconds: options.batchingWindowSeconds ?? deployment.recordsConsumer.batchingWindowSeconds,
  };
  const events = eventsPerBatch(consumer, scenario.requestsPerSecond, assumptions.pollers);
  const withTenant = events * assumptions.tenantFraction;
  const usageAggregates = expectedDistinct(scenario.tenants, withTenant);
  // Samples without a tenant share the platform's hour: present once any such sample is in the batch.
  const platform = 1 - assumptions.tenantFraction ** events;
  return {
    eventsIdeal: eventsPerBatch(consumer, scenario.requestsPerSecond, 1),
    events,
    usageAggregates,
    metricAggregates: usageAggregates + platform,
  };
}

/** What one request's telemetry causes in a design. */
export function telemetryUsage(
  design: Design,
  inputs: ScenarioInputs,
  options: TelemetryOptions = {},
): Omit<Usage, keyof ReturnType<typeof requestPathUsage>> {
  const { deployment, scenario, assumptions, sizes } = inputs;
  const m = assumptions.mutatingFraction;
  const u = assumptions.tenantFraction;
  const auditWrites = m * Math.ceil(assumptions.auditItemKb);
  const consumerGb = gb(deployment.recordsConsumer);
  if (design === 'before') {
    const entries = entriesPerRequest('before', assumptions);
    return {
      eventBridgeEvents: m * chunks(sizes.audit) + u * chunks(sizes.usage) + chunks(sizes.metric),
      archivedBytes: m * sizes.audit + u * sizes.usage + sizes.metric,
      // Rules invoked the consumers directly (same-account delivery is not billed); no queue.
      sqsRequests: 0,
      consumerInvocations: entries,
      consumerGbSeconds: entries * consumerGb * (assumptions.perRecordConsumerMs / 1000),
      consumerLogBytes: entries * assumptions.platformLogBytesPerInvocation,
      // Audit: a conditional put. Usage: claim put, rollup update, applied mark. Metric: ledger put,
      // hour update, mark.
      dynamoDbWriteUnits: auditWrites + u * 3 + 3,
    };
  }
  const batch = batchFigures(inputs, options);
  const eventBytes = m * sizes.requestMutating + (1 - m) * sizes.requestRead;
  const perReceive = messagesPerReceive(scenario.requestsPerSecond, assumptions);
  const receives = Math.ceil((perReceive * eventBytes) / BILLING_CHUNK_BYTES) / perReceive;
  const deletes = Math.ceil(batch.events / 10) / batch.events;
  // Each matching rule delivers to a queue of its own, which its pollers receive from and delete from.
  const queues = options.withoutBus ? 1 : deployment.rulesPerRequestEntry;
  return {
    eventBridgeEvents: options.withoutBus ? 0 : chunks(eventBytes),
    archivedBytes: options.withoutBus ? 0 : eventBytes,
    sqsRequests: queues * (chunks(eventBytes) + receives + deletes),
    consumerInvocations: 1 / batch.events,
    consumerGbSeconds:
      (consumerGb * ((assumptions.consumerBatchMs + assumptions.consumerMsPerEvent * batch.events) / 1000)) /
      batch.events,
    consumerLogBytes: (assumptions.platformLogBytesPerInvocation + assumptions.logLineBytes) / batch.events,
    // Per event: its audit record, one claim. Per batch: each aggregate once, one DONE marker.
    dynamoDbWriteUnits: auditWrites + 1 + (batch.usageAggregates + batch.metricAggregates + 1) / batch.events,
  };
}

// ---------------------------------------------------------------------------------------------
// Pricing

export interface LineItem {
  readonly item: string;
  readonly usdPerMillion: number;
}

export function lambdaGbSecondPrice(architecture: FunctionSettings['architecture']): PriceId {
  return architecture === 'arm64' ? 'lambdaArmGbSecond' : 'lambdaX86GbSecond';
}

export function retentionMonths(deployment: Deployment): number {
  return deployment.archiveRetentionDays === null ? 0 : deployment.archiveRetentionDays / DAYS_PER_MONTH;
}

/** Telemetry line items per million requests. */
export function telemetryCost(
  design: Design,
  inputs: ScenarioInputs,
  options: TelemetryOptions = {},
): LineItem[] {
  const { deployment, assumptions } = inputs;
  const usage = telemetryUsage(design, inputs, options);
  const archivedGb = (usage.archivedBytes * MILLION) / BYTES_PER_GB;
  // A provisioned unit serves 3,600 writes an hour; at a utilization below 1 each write costs more.
  const writes = options.provisionedWrites
    ? usage.dynamoDbWriteUnits *
      MILLION *
      (costOf('dynamoDbProvisionedWcuHour', 1) / 3600 / assumptions.provisionedUtilization)
    : costOf('dynamoDbOnDemandWrites', usage.dynamoDbWriteUnits * MILLION);
  return [
    {
      item: 'EventBridge entries',
      usdPerMillion: costOf('eventBridgeCustomEvents', usage.eventBridgeEvents * MILLION),
    },
    {
      item: `EventBridge archive (ingest + ${deployment.archiveRetentionDays ?? 0} days stored)`,
      usdPerMillion:
        costOf('eventBridgeArchiveIngest', archivedGb) +
        costOf('eventBridgeArchiveStorage', archivedGb * retentionMonths(deployment)),
    },
    { item: 'SQS requests', usdPerMillion: costOf('sqsStandardRequests', usage.sqsRequests * MILLION) },
    {
      item: 'consumer Lambda (requests + duration)',
      usdPerMillion:
        costOf('lambdaRequests', usage.consumerInvocations * MILLION) +
        costOf(
          lambdaGbSecondPrice(deployment.recordsConsumer.architecture),
          usage.consumerGbSeconds * MILLION,
        ),
    },
    {
      item: 'consumer logs',
      usdPerMillion: costOf('cloudWatchLogsIngestion', (usage.consumerLogBytes * MILLION) / BYTES_PER_GB),
    },
    {
      item: options.provisionedWrites ? 'DynamoDB writes (provisioned)' : 'DynamoDB writes',
      usdPerMillion: writes,
    },
  ];
}

/** The request path's own line items per million requests (the same in both designs). */
export function requestPathCost(inputs: ScenarioInputs): LineItem[] {
  const usage = requestPathUsage(inputs);
  const architectures = new Set(inputs.deployment.routeFunctions.map((fn) => fn.architecture));
  const architecture = architectures.has('x86_64') ? 'x86_64' : 'arm64';
  return [
    { item: 'HTTP API', usdPerMillion: costOf('httpApiRequests', usage.httpApiRequests * MILLION) },
    {
      item: 'API Lambda (requests + duration)',
      usdPerMillion:
        costOf('lambdaRequests', usage.apiInvocations * MILLION) +
        costOf(lambdaGbSecondPrice(architecture), usage.apiGbSeconds * MILLION),
    },
    {
      item: 'API logs',
      usdPerMillion: costOf('cloudWatchLogsIngestion', (usage.apiLogBytes * MILLION) / BYTES_PER_GB),
    },
    { item: 'X-Ray traces', usdPerMillion: costOf('xRayTracesRecorded', usage.xRayTraces * MILLION) },
    {
      // shared/records/tenant-limits.ts: one conditional UpdateItem of a small item (one write
      // unit, on-demand) admits each tenant request against its rate and month (issue 15).
      item: 'Tenant limits (one DynamoDB update a request)',
      usdPerMillion: costOf('dynamoDbOnDemandWrites', usage.limitWrites * MILLION),
    },
  ];
}

export const total = (items: readonly LineItem[]) => items.reduce((sum, item) => sum + item.usdPerMillion, 0);

export interface ScenarioFigures {
  readonly scenario: Scenario;
  readonly requestsPerMonth: number;
  readonly batch: BatchFigures;
  readonly invocationsPer1000: { readonly before: number; readonly ideal: number; readonly after: number };
  readonly entriesPerRequest: { readonly before: number; readonly after: number };
  readonly sqsRequestsPerEvent: number;
  readonly writeUnitsPerRequest: { readonly before: number; readonly after: number };
  readonly dataApiCallsPerRequest: number;
  readonly requestPath: LineItem[];
  readonly telemetry: { readonly before: LineItem[]; readonly after: LineItem[] };
  readonly telemetryTotal: { readonly before: number; readonly after: number };
  readonly wholePathTotal: { readonly before: number; readonly after: number };
  /** EventBridge and SQS alone, and with the one claim write no event avoids: the design's floor. */
  readonly floor: {
    readonly busAndQueueAtBest: number;
    readonly busAndQueue: number;
    readonly withClaim: number;
  };
  readonly levers: readonly { readonly lever: string; readonly telemetry: number }[];
  readonly goals: { readonly telemetry: boolean; readonly invocations: boolean };
}

export function scenarioFigures(inputs: ScenarioInputs): ScenarioFigures {
  const { deployment, scenario, assumptions } = inputs;
  if (deployment.tables.some((table) => !table.onDemand)) {
    throw new Error(
      'The model prices DynamoDB writes on demand; a provisioned table needs its capacity priced',
    );
  }
  const batch = batchFigures(inputs);
  const before = telemetryCost('before', inputs);
  const after = telemetryCost('after', inputs);
  const requestPath = requestPathCost(inputs);
  const afterUsage = telemetryUsage('after', inputs);
  const item = (items: readonly LineItem[], name: string) =>
    items.find((candidate) => candidate.item.startsWith(name))?.usdPerMillion ?? 0;
  const busAndQueue = item(after, 'EventBridge entries') + item(after, 'SQS requests');
  const window = 300;
  const levers = [
    { lever: 'DynamoDB provisioned writes', options: { provisionedWrites: true } },
    { lever: `batching window ${window} s (the maximum)`, options: { batchingWindowSeconds: window } },
    { lever: 'both of the above', options: { provisionedWrites: true, batchingWindowSeconds: window } },
    {
      lever: 'no bus: the API function sends to the queue (and both of the above)',
      options: { provisionedWrites: true, batchingWindowSeconds: window, withoutBus: true },
    },
  ].map(({ lever, options }) => ({ lever, telemetry: total(telemetryCost('after', inputs, options)) }));
  const invocations = invocationsPer1000(batch.events);
  return {
    scenario,
    requestsPerMonth: scenario.requestsPerSecond * SECONDS_PER_MONTH,
    batch,
    invocationsPer1000: {
      before: entriesPerRequest('before', assumptions) * 1000,
      ideal: invocationsPer1000(batch.eventsIdeal),
      after: invocations,
    },
    entriesPerRequest: {
      before: entriesPerRequest('before', assumptions),
      after: entriesPerRequest('after', assumptions),
    },
    sqsRequestsPerEvent: afterUsage.sqsRequests,
    writeUnitsPerRequest: {
      before: telemetryUsage('before', inputs).dynamoDbWriteUnits,
      after: afterUsage.dynamoDbWriteUnits,
    },
    dataApiCallsPerRequest: assumptions.dataApiCallsPerRequest,
    requestPath,
    telemetry: { before, after },
    telemetryTotal: { before: total(before), after: total(after) },
    wholePathTotal: { before: total(requestPath) + total(before), after: total(requestPath) + total(after) },
    floor: {
      // One entry, its SendMessage, and receives and deletes of ten: no design with the bus pays less.
      busAndQueueAtBest:
        costOf('eventBridgeCustomEvents', MILLION) + costOf('sqsStandardRequests', (1 + 0.1 + 0.1) * MILLION),
      busAndQueue,
      withClaim: busAndQueue + costOf('dynamoDbOnDemandWrites', MILLION),
    },
    levers,
    goals: {
      telemetry: total(after) <= GOALS.telemetryUsdPerMillion,
      invocations: invocations <= GOALS.consumerInvocationsPer1000,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Fixed and per-tenant costs
