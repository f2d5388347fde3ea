import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventDetail, MetricSample } from '#shared/events/events';
import { BUCKET_COUNT, bucketAttribute, percentile } from '#shared/records/latency-histogram';
import { forEachQueryPage } from '#shared/records/query-pages';

export type MetricDetail = EventDetail<typeof MetricSample>;

/** `YYYY-MM-DDTHH` of an ISO timestamp, in UTC. */
export const hourOf = (at: string) => new Date(at).toISOString().slice(0, 13);

/** How long the per-event ledger entries of metric samples are kept (TTL in AWS). */
export const METRIC_LEDGER_DAYS = 7;

export const metricKeys = {
  partition: (tenantId: string | null) => `METRICS#${tenantId ?? 'platform'}`,
  hour: (tenantId: string | null, hour: string) => ({
    pk: `METRICS#${tenantId ?? 'platform'}`,
    sk: `HOUR#${hour}`,
  }),
  /** The sample's ledger entry: one small item per event, expiring after a week. */
  ledger: (tenantId: string | null, at: string, eventId: string) => ({
    pk: `METRICSEEN#${tenantId ?? 'platform'}#${hourOf(at)}`,
    sk: eventId,
  }),
};

export interface HourlyMetrics {
  readonly hour: string;
  readonly requests: number;
  /** 5xx answers. */
  readonly errors: number;
  /** 4xx answers (refusals and bad input: the API working as specified). */
  readonly clientErrors: number;
  readonly errorRate: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly meanMs: number | null;
}

/** A 5xx is an error of ours; 4xx answers are the API working as specified. */
export const isError = (statusCode: number) => statusCode >= 500;

/**
 * Request metrics per tenant and hour: one item holding the request and error counts, the sum of
 * latencies and a latency histogram, every field moved by atomic `ADD`s, once per event
 * (RecordBatchWriter, with one update per tenant and hour for a whole batch).
 */
export class MetricsStore {
  readonly #documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.#documents = DynamoDBDocumentClient.from(client);
  }

  /** Hours from `from` to `to` (ISO timestamps, inclusive of their hours) that had requests. */
  async hours(tenantId: string | null, from: string, to: string): Promise<HourlyMetrics[]> {
    const out: HourlyMetrics[] = [];
    await forEachQueryPage(
      this.#documents,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': metricKeys.partition(tenantId),
          ':from': `HOUR#${hourOf(from)}`,
          ':to': `HOUR#${hourOf(to)}`,
        },
      },
      (page) => {
        for (const item of page.Items ?? []) out.push(summarise(item));
      },
    );
    return out;
  }
}

function summarise(item: Record<string, unknown>): HourlyMetrics {
  const counts = Array.from({ length: BUCKET_COUNT }, (_, index) =>
    Number(item[bucketAttribute(index)] ?? 0),
  );
  const requests = Number(item.requests ?? 0);
  const errors = Number(item.errors ?? 0);
  return {
    hour: `${String(item.sk).slice('HOUR#'.length)}:00:00Z`,
    requests,
    errors,
    clientErrors: Number(item.clientErrors ?? 0),
    errorRate: requests === 0 ? 0 : Math.round((errors / requests) * 10_000) / 10_000,
    p50: percentile(counts, 50),
    p95: percentile(counts, 95),
    p99: percentile(counts, 99),
    meanMs: requests === 0 ? null : Math.round((Number(item.latencySumMs ?? 0) / requests) * 100) / 100,
  };
}
