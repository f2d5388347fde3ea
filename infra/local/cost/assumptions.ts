/** The cost model's units, assumptions, scenarios and goals (cost-model.ts). */

/** AWS prices a month as 730 hours. */
export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
export const MILLION = 1_000_000;

/**
 * What the model assumes where the templates and the code do not say. Each is stated in the
 * document with its reason; the ones AWS documents carry the page.
 */
export interface Assumptions {
  /** Share of requests that mutate (POST, PUT, PATCH, DELETE): they carry an audit record. */
  readonly mutatingFraction: number;
  /** Share of requests made for an authorised, active tenant: they carry usage. */
  readonly tenantFraction: number;
  /** Average billed duration of an API function invocation. */
  readonly apiDurationMs: number;
  /** Data API calls an average request makes (the membership check, the route's own queries). */
  readonly dataApiCallsPerRequest: number;
  /**
   * Concurrent batches Lambda's pollers read from a queue: "Lambda starts processing five batches
   * at a time with five concurrent invocations", and when traffic is low scales back to five and
   * "can optimize to as few as 2" (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
   * The model splits a window's messages over this many batches: the cautious count of invocations.
   */
  readonly pollers: number;
  /** The fewest pollers on an idle queue (same page). */
  readonly idlePollers: number;
  /**
   * How long a poller's receive waits on an empty queue: the SQS maximum, 20 s
   * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html).
   * Lambda "uses long polling"; a shorter wait would raise the empty receives in proportion.
   */
  readonly longPollSeconds: number;
  /**
   * A long poll returns once a message is there, with what has arrived
   * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html):
   * the model assumes a receive holds the messages that arrived during one SQS round trip of this
   * long, at least one and at most ten.
   */
  readonly sqsRoundTripSeconds: number;
  /** Billed duration of a records batch: a fixed part and a part per event. */
  readonly consumerBatchMs: number;
  readonly consumerMsPerEvent: number;
  /** Billed duration of one invocation of a per-record consumer (before): up to three writes. */
  readonly perRecordConsumerMs: number;
  /** Size of a stored audit item; details are capped at MAX_DETAILS_BYTES (4 KB). */
  readonly auditItemKb: number;
  /** Lambda's START, END and REPORT lines of one invocation. */
  readonly platformLogBytesPerInvocation: number;
  /** One structured log line (the API's access line, the consumer's `record batch` line). */
  readonly logLineBytes: number;
  /** `pg_database_size` of a tenant database with its baseline schema and no rows. */
  readonly emptyTenantDatabaseMb: number;
  readonly databasesPerTenant: number;
  /** Billed duration of the storage snapshot per database (a tenant session, one size query). */
  readonly snapshotMsPerDatabase: number;
  /** Tenant databases listed per Data API call (TENANT_DATABASE_PAGE_SIZE). */
  readonly snapshotListPageSize: number;
  /** Target utilization of provisioned write capacity, for the lever that uses it. */
  readonly provisionedUtilization: number;
}

export const ASSUMPTIONS: Assumptions = {
  mutatingFraction: 0.2,
  tenantFraction: 1,
  apiDurationMs: 60,
  dataApiCallsPerRequest: 3,
  pollers: 5,
  idlePollers: 2,
  longPollSeconds: 20,
  sqsRoundTripSeconds: 0.02,
  consumerBatchMs: 50,
  consumerMsPerEvent: 1,
  perRecordConsumerMs: 25,
  auditItemKb: 1.5,
  platformLogBytesPerInvocation: 350,
  logLineBytes: 300,
  emptyTenantDatabaseMb: 7.5,
  databasesPerTenant: 1,
  snapshotMsPerDatabase: 40,
  snapshotListPageSize: 500,
  provisionedUtilization: 0.7,
};

export interface Scenario {
  readonly name: string;
  /** Steady request rate. */
  readonly requestsPerSecond: number;
  /** Active tenants, each as likely as any other to make a request. */
  readonly tenants: number;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: '1 M requests/month, 100 tenants', requestsPerSecond: MILLION / SECONDS_PER_MONTH, tenants: 100 },
  { name: '10 req/s, 100 tenants', requestsPerSecond: 10, tenants: 100 },
  { name: '100 req/s, 1,000 tenants', requestsPerSecond: 100, tenants: 1000 },
  { name: '1,000 req/s, 10,000 tenants', requestsPerSecond: 1000, tenants: 10_000 },
];

/** The goals (#14). */
export const GOALS = { telemetryUsdPerMillion: 1.5, consumerInvocationsPer1000: 20 } as const;
