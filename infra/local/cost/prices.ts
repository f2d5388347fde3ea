/**
 * The prices the cost model (infra/local/cost/cost-model.ts) multiplies by: us-east-1, on-demand, list
 * prices, no free tier. Every price names the page it was read from and the day it was read
 * (stored copies of public pages), and the AWS page where AWS itself states it. Where the stored
 * copy of the AWS page carried the number, the AWS page is the source; where it did not (its price
 * tables are rendered client-side), the source is a third party quoting it, and `awsPage` says
 * where to check it. A price nothing citable was found for is not here: it is in `UNPRICED`, and
 * the model counts its calls without pricing them.
 */

export interface Price {
  /** US dollars per `per` units of `unit`. */
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  readonly what: string;
  /** The page the number was read from. */
  readonly source: string;
  /** Where AWS states the price. */
  readonly awsPage: string;
  /** The day the source was read (YYYY-MM-DD). */
  readonly read: string;
  /** What the source says beyond the number (tiers, chunking, the page's own date). */
  readonly note?: string;
}

const READ = '2026-12-02';

export const PRICES = {
  eventBridgeCustomEvents: {
    usd: 1.0,
    per: 1_000_000,
    unit: 'custom events (64 KB chunks)',
    what: 'EventBridge: custom events published to an event bus',
    source: 'https://cloudburn.io/blog/amazon-eventbridge-pricing',
    awsPage: 'https://aws.amazon.com/eventbridge/pricing/',
    read: READ,
    note: 'us-east-1 as of March 2026; same-account delivery to targets is free. The stored AWS page confirms "Each 64 KB chunk of a payload is billed as one event".',
  },
  eventBridgeArchiveIngest: {
    usd: 0.1,
    per: 1,
    unit: 'GB archived',
    what: 'EventBridge archive: events processed into an archive',
    source: 'https://cloudburn.io/blog/amazon-eventbridge-pricing',
    awsPage: 'https://aws.amazon.com/eventbridge/pricing/',
    read: READ,
  },
  eventBridgeArchiveStorage: {
    usd: 0.023,
    per: 1,
    unit: 'GB-month',
    what: 'EventBridge archive: storage',
    source: 'https://cloudburn.io/blog/amazon-eventbridge-pricing',
    awsPage: 'https://aws.amazon.com/eventbridge/pricing/',
    read: READ,
  },
  eventBridgeSchedulerInvocations: {
    usd: 1.0,
    per: 1_000_000,
    unit: 'scheduled invocations',
    what: 'EventBridge Scheduler: invocations (after 14 M free a month)',
    source: 'https://cloudburn.io/blog/amazon-eventbridge-pricing',
    awsPage: 'https://aws.amazon.com/eventbridge/pricing/',
    read: READ,
  },
  sqsStandardRequests: {
    usd: 0.4,
    per: 1_000_000,
    unit: 'requests (64 KB chunks)',
    what: 'SQS standard queue: API requests (first 100 B a month)',
    source: 'https://cloudburn.io/blog/amazon-sqs-pricing',
    awsPage: 'https://aws.amazon.com/sqs/pricing/',
    read: READ,
    note: 'us-east-1 as of March 2026; "empty receives from Lambda polling idle queues" are billed requests; each 64 KB chunk of a payload is one request.',
  },
  lambdaRequests: {
    usd: 0.2,
    per: 1_000_000,
    unit: 'invocations',
    what: 'Lambda: requests',
    source:
      'https://git.mcrn.ar/mariano/lambda_local_runner/src/commit/957e45b8adae23ce50b966346229585b5df18b4d/docs/lambdas-md/lambda-13-cost.md?display=rendered',
    awsPage: 'https://aws.amazon.com/lambda/pricing/',
    read: READ,
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    per: 1,
    unit: 'GB-second (arm64)',
    what: 'Lambda: duration on arm64 (first 7.5 B GB-s a month)',
    source: 'https://cloudchipr.com/blog/aws-lambda-pricing',
    awsPage: 'https://aws.amazon.com/lambda/pricing/',
    read: READ,
    note: 'US East (N. Virginia); the same rate in artillery 2.0.28 lib/platform/aws-lambda/prices.js, which cites the AWS page.',
  },
  lambdaX86GbSecond: {
    usd: 0.0000166667,
    per: 1,
    unit: 'GB-second (x86_64)',
    what: 'Lambda: duration on x86_64 (first 6 B GB-s a month)',
    source: 'https://cloudchipr.com/blog/aws-lambda-pricing',
    awsPage: 'https://aws.amazon.com/lambda/pricing/',
    read: READ,
  },
  dynamoDbOnDemandWrites: {
    usd: 0.625,
    per: 1_000_000,
    unit: 'write request units (1 KB each)',
    what: 'DynamoDB on-demand: write request units',
    source: 'https://airbyte.com/data-engineering-resources/dynamodb-pricing',
    awsPage: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    read: READ,
    note: 'US East, after the 50 % on-demand reduction of November 2024. The stored AWS page defines the unit: "A standard write request unit can write an item up to 1 KB".',
  },
  dynamoDbProvisionedWcuHour: {
    usd: 0.00065,
    per: 1,
    unit: 'WCU-hour',
    what: 'DynamoDB provisioned capacity: one write capacity unit for an hour',
    source: 'https://zeonedge.com/en/blog/dynamodb-cost-optimization-on-demand-provisioned-dax-single-table',
    awsPage: 'https://aws.amazon.com/dynamodb/pricing/provisioned/',
    read: READ,
    note: 'The page predates the November 2024 on-demand reduction (it quotes $1.25 per million on-demand writes); that reduction was to on-demand throughput.',
  },
  httpApiRequests: {
    usd: 1.0,
    per: 1_000_000,
    unit: 'requests (512 KB increments)',
    what: 'API Gateway HTTP API: requests (first 300 M a month)',
    source: 'https://www.apigatewaycost.com/aws',
    awsPage: 'https://aws.amazon.com/api-gateway/pricing/',
    read: READ,
    note: '$0.90 per million for the next 700 M, $0.80 beyond 1 B.',
  },
  secretsManagerSecretMonth: {
    usd: 0.4,
    per: 1,
    unit: 'secret-month',
    what: 'Secrets Manager: a secret stored for a month (prorated)',
    source:
      'https://raw.githubusercontent.com/api-evangelist/amazon-secrets-manager/refs/heads/main/plans/amazon-secrets-manager-plans-pricing.yml',
    awsPage: 'https://aws.amazon.com/secrets-manager/pricing/',
    read: READ,
    note: 'A transcription of the AWS page (its pricing examples) made 2026-09-20, each price text "found verbatim in the fetched page text".',
  },
  secretsManagerApiCalls: {
    usd: 0.05,
    per: 10_000,
    unit: 'API calls',
    what: 'Secrets Manager: API calls',
    source:
      'https://raw.githubusercontent.com/api-evangelist/amazon-secrets-manager/refs/heads/main/plans/amazon-secrets-manager-plans-pricing.yml',
    awsPage: 'https://aws.amazon.com/secrets-manager/pricing/',
    read: READ,
  },
  auroraServerlessV2AcuHour: {
    usd: 0.12,
    per: 1,
    unit: 'ACU-hour',
    what: 'Aurora Serverless v2 (Aurora Standard): capacity',
    source: 'https://c3x.dev/blog/aws-aurora-serverless-v2-cost/',
    awsPage: 'https://aws.amazon.com/rds/aurora/pricing/',
    read: READ,
    note: '"1 ACU ≈ $0.12/hour (us-east-1)", billed per second; the stored AWS page says ACUs are "billed per second" but carries no number.',
  },
  auroraStorageGbMonth: {
    usd: 0.1,
    per: 1,
    unit: 'GB-month',
    what: 'Aurora Standard: storage',
    source: 'https://www.cloudexmachina.io/blog/aws-aurora-pricing?hs_amp=true',
    awsPage: 'https://aws.amazon.com/rds/aurora/pricing/',
    read: READ,
    note: '"a representative rate often cited for regions like US East (N. Virginia)".',
  },
  cloudWatchLogsIngestion: {
    usd: 0.5,
    per: 1,
    unit: 'GB ingested',
    what: 'CloudWatch Logs: ingestion (Standard log class)',
    source: 'https://c3x.dev/blog/cloudwatch-logs-cost-optimization',
    awsPage: 'https://aws.amazon.com/cloudwatch/pricing/',
    read: READ,
    note: 'us-east-1, June 2026.',
  },
  cloudWatchAlarmMonth: {
    usd: 0.1,
    per: 1,
    unit: 'alarm-month',
    what: 'CloudWatch: a standard-resolution metric alarm for a month',
    source: 'https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm',
    awsPage: 'https://aws.amazon.com/cloudwatch/pricing/',
    read: READ,
  },
  xRayTracesRecorded: {
    usd: 5.0,
    per: 1_000_000,
    unit: 'traces recorded',
    what: 'X-Ray: traces recorded (after 100,000 free a month)',
    source: 'https://aws.amazon.com/de/xray/pricing/',
    awsPage: 'https://aws.amazon.com/xray/pricing/',
    read: READ,
    note: 'The AWS page (German edition, one price for every Region on it): "5 USD pro Million (0,000005 USD pro Ablaufverfolgung)".',
  },
} as const satisfies Record<string, Price>;

export type PriceId = keyof typeof PRICES;

/** Dollars for `quantity` units of a price. */
export function costOf(id: PriceId, quantity: number): number {
  const price: Price = PRICES[id];
  return (price.usd / price.per) * quantity;
}

/** What the model counts but does not price, and why. */
export interface Unpriced {
  readonly what: string;
  /** Where AWS would state the price, when known. */
  readonly awsPage?: string;
  readonly why: string;
}

export const UNPRICED: readonly Unpriced[] = [
  {
    what: 'RDS Data API requests',
    awsPage: 'https://aws.amazon.com/rds/aurora/pricing/',
    why: 'no stored page gives the us-east-1 price (one blog gives 0.42 USD per million for an unnamed Region); the calls are counted, not priced',
  },
  {
    what: 'Aurora I/O requests (Aurora Standard)',
    awsPage: 'https://aws.amazon.com/rds/aurora/pricing/',
    why: 'no stored page gives the number; the I/Os a Data API call causes are not known either',
  },
  {
    what: 'STS AssumeRole calls (tenant sessions, the storage snapshot)',
    why: 'no stored page states whether STS charges; counted, not priced',
  },
];
