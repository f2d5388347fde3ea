import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { analyticsKeys } from '#shared/records/analytics-keys';
import { batchPutAll } from '#shared/records/batch-put';
import { BUCKET_COUNT, bucketAttribute } from '#shared/records/latency-histogram';
import { forEachQueryPage } from '#shared/records/query-pages';

/** A tenant's month of the fleet rollups. */
export interface TenantMonth {
  readonly tenantId: string;
  readonly apiCalls: number;
  readonly requests: number;
  readonly errors: number;
  readonly storageBytes: number;
}

/** Tenants counted by status, plan and isolation. */
export interface TenantCounts {
  readonly byStatus: Record<string, number>;
  readonly byPlan: Record<string, number>;
  readonly byIsolation: Record<string, number>;
}

/** One month's partition of the fleet rollups, as read by one Query. */
export interface MonthRollups {
  readonly tenants: TenantMonth[];
  /** The fleet's requests, errors and latency histogram (counts by bucket index). */
  readonly fleet: { readonly requests: number; readonly errors: number; readonly buckets: number[] };
  /** The tenants at the month's close; null for a month not closed (or closed before analytics). */
  readonly snapshot: (TenantCounts & { readonly at: string }) | null;
}

const BUCKETS = Array.from({ length: BUCKET_COUNT }, (_, index) => bucketAttribute(index));
const PROJECTED = [
  'sk',
  'tenantId',
  'apiCalls',
  'requests',
  'errors',
  'storageBytes',
  'byStatus',
  'byPlan',
  'byIsolation',
  'at',
  ...BUCKETS,
];
/**
 * Every projected attribute through a placeholder: some (`at`) are DynamoDB reserved words
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html).
 */
const PROJECTION = {
  ProjectionExpression: PROJECTED.map((_, index) => `#p${index}`).join(', '),
  ExpressionAttributeNames: Object.fromEntries(PROJECTED.map((name, index) => [`#p${index}`, name])),
};

const counts = (value: unknown): Record<string, number> =>
  Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, unknown>).map(([k, v]) => [k, Number(v)]),
  );

/**
 * The fleet analytics rollups (analytics-keys.ts): written by the records writer
 * (analytics-aggregates.ts) and the month close, read a month at a time.
 */
export class AnalyticsStore {
  readonly #documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.#documents = DynamoDBDocumentClient.from(client);
  }

  /** A month's partition: every tenant's item, the fleet's and the snapshot, in Query pages. */
  async month(month: string): Promise<MonthRollups> {
    const tenants: TenantMonth[] = [];
    let fleet: MonthRollups['fleet'] = { requests: 0, errors: 0, buckets: BUCKETS.map(() => 0) };
    let snapshot: MonthRollups['snapshot'] = null;
    const query = {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': analyticsKeys.partition(month) },
      ...PROJECTION,
    };
    await forEachQueryPage(this.#documents, query, (page) => {
      for (const item of page.Items ?? []) {
        if (item.sk === 'FLEET') {
          fleet = {
            requests: Number(item.requests ?? 0),
            errors: Number(item.errors ?? 0),
            buckets: BUCKETS.map((name) => Number(item[name] ?? 0)),
          };
        } else if (item.sk === 'SNAPSHOT') {
          snapshot = {
            byStatus: counts(item.byStatus),
            byPlan: counts(item.byPlan),
            byIsolation: counts(item.byIsolation),
            at: String(item.at),
          };
        } else {
          tenants.push({
            tenantId: String(item.tenantId ?? String(item.sk).slice('TENANT#'.length)),
            apiCalls: Number(item.apiCalls ?? 0),
            requests: Number(item.requests ?? 0),
            errors: Number(item.errors ?? 0),
            storageBytes: Number(item.storageBytes ?? 0),
          });
        }
      }
    });
    return { tenants, fleet, snapshot };
  }

  /**
   * How many users were active in the month: a COUNT Query, no items returned. A page counts at
   * most 1 MB of items, so the counts of every page are summed
   * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Other.html).
   */
  async activeUsers(month: string): Promise<number> {
    let total = 0;
    const query = {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': analyticsKeys.activePartition(month) },
      Select: 'COUNT' as const,
    };
    await forEachQueryPage(this.#documents, query, (page) => {
      total += page.Count ?? 0;
    });
    return total;
  }

  /** The month close's snapshot of the tenants (written once per close; a rerun overwrites it). */
  async putSnapshot(month: string, snapshot: TenantCounts, at: string): Promise<void> {
    await this.#documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...analyticsKeys.snapshot(month), ...snapshot, at },
      }),
    );
  }

  /**
   * The month close's backstop: a tenant's month of api_calls and storage peak from its reconciled
   * daily rollups, overwriting what the writer added (requests and errors are left as they are).
   */
  async setTenantUsage(month: string, tenantId: string, usage: { apiCalls: number; storageBytes: number }) {
    await this.#documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: analyticsKeys.tenant(month, tenantId),
        UpdateExpression: 'SET tenantId = :tenant, apiCalls = :calls, storageBytes = :bytes',
        ExpressionAttributeValues: {
          ':tenant': tenantId,
          ':calls': usage.apiCalls,
          ':bytes': usage.storageBytes,
        },
      }),
    );
  }

  /** Writes items as they are, 25 a BatchWriteItem call (the benchmark's seed). */
  async seed(items: readonly Record<string, unknown>[]): Promise<void> {
    await batchPutAll(this.#documents, this.tableName, items);
  }
}
