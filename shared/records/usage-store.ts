import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type QueryCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventDetail, UsageRecorded } from '#shared/events/events';
import { batchPutAll } from '#shared/records/batch-put';
import { forEachQueryPage } from '#shared/records/query-pages';

export type UsageDetail = EventDetail<typeof UsageRecorded>;

/**
 * Gauges are snapshots (the storage a tenant holds, its number of databases): a day's and a
 * month's value is the peak. Every other resource type is a counter: a day's and a month's value
 * is the sum.
 */
export const GAUGE_RESOURCE_TYPES: ReadonlySet<string> = new Set(['storage_bytes', 'databases']);
export const kindOf = (resourceType: string): 'counter' | 'gauge' =>
  GAUGE_RESOURCE_TYPES.has(resourceType) ? 'gauge' : 'counter';

/** `YYYY-MM-DD` of an ISO timestamp, in UTC. */
export const dayOf = (at: string) => new Date(at).toISOString().slice(0, 10);
/** `YYYY-MM` of an ISO timestamp or day, in UTC. */
export const monthOf = (at: string) => new Date(at).toISOString().slice(0, 7);

/** Keys of the usage table (shared with metrics: see docs/audit-usage.md). */
export const usageKeys = {
  /** One raw record per event: `USAGE#<tenant>#<day>` / `<resourceType>#<at>#<eventId>`. */
  raw: (tenantId: string, at: string, resourceType: string, eventId: string) => ({
    pk: `USAGE#${tenantId}#${dayOf(at)}`,
    sk: `${resourceType}#${at}#${eventId}`,
  }),
  rawDay: (tenantId: string, day: string) => `USAGE#${tenantId}#${day}`,
  /** The daily rollups of a tenant: `ROLLUP#<tenant>` / `DAY#<day>#<resourceType>`. */
  rollupPartition: (tenantId: string) => `ROLLUP#${tenantId}`,
  rollup: (tenantId: string, day: string, resourceType: string) => ({
    pk: `ROLLUP#${tenantId}`,
    sk: `DAY#${day}#${resourceType}`,
  }),
};

export interface DailyRollup {
  readonly tenantId: string;
  readonly day: string;
  readonly resourceType: string;
  readonly quantity: number;
  readonly unit: string;
  readonly kind: 'counter' | 'gauge';
}

export interface RawUsage {
  readonly eventId: string;
  readonly tenantId: string;
  readonly resourceType: string;
  readonly quantity: number;
  readonly unit: string;
  readonly at: string;
}

export interface MonthTotal {
  readonly resourceType: string;
  readonly quantity: number;
  readonly unit: string;
  readonly kind: 'counter' | 'gauge';
}

// Where the totals are summed without the store (and its SDK client), e.g. an HTTP handler.
import { combine } from '#shared/records/usage-totals';

export { combine };

/**
 * Usage records: a raw record per event and a daily rollup per tenant, day and resource type.
 * The raw record is the event's claim (RecordBatchWriter), so a replay is recognised by its key; the
 * rollup is moved by atomic `ADD` (counters) or a conditional `SET` of a higher value (gauges) only
 * by the delivery that created the raw record, once per batch. Months are summed from at most 31 daily rollups, so a
 * month's export reads rollups, never the raw records.
 */
export class UsageStore {
  readonly #documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async #queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    await forEachQueryPage(this.#documents, input, (page) => {
      items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    });
    return items;
  }

  /** Daily rollups of a tenant from `fromDay` to `toDay` (inclusive, `YYYY-MM-DD`). */
  async dailyRollups(
    tenantId: string,
    fromDay: string,
    toDay: string,
    resourceType?: string,
  ): Promise<DailyRollup[]> {
    const items = await this.#queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': usageKeys.rollupPartition(tenantId),
        ':from': `DAY#${fromDay}`,
        ':to': `DAY#${toDay}#~`,
        ...(resourceType ? { ':type': resourceType } : {}),
      },
      ...(resourceType ? { FilterExpression: 'resourceType = :type' } : {}),
      ConsistentRead: true,
    });
    return items.map((item) => ({
      tenantId,
      day: String(item.day),
      resourceType: String(item.resourceType),
      quantity: Number(item.quantity ?? 0),
      unit: String(item.unit),
      kind: kindOf(String(item.resourceType)),
    }));
  }

  /** A tenant's totals of one calendar month (UTC), from its daily rollups. */
  async monthTotals(tenantId: string, month: string): Promise<MonthTotal[]> {
    const rollups = await this.dailyRollups(tenantId, `${month}-01`, `${month}-31`);
    return totalsOf(rollups);
  }

  /** The raw records of a tenant's day (for reconciliation and checks; a day can be large). */
  async rawRecords(tenantId: string, day: string): Promise<RawUsage[]> {
    const items = await this.#queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': usageKeys.rawDay(tenantId, day) },
      ConsistentRead: true,
    });
    return items.map((item) => ({
      eventId: String(item.eventId),
      tenantId: String(item.tenantId),
      resourceType: String(item.resourceType),
      quantity: Number(item.quantity),
      unit: String(item.unit),
      at: String(item.at),
    }));
  }

  /**
   * Recomputes a finished day's rollups from its raw records and overwrites any that differ.
   * Run on days that take no more writes (the month close does): it is the backstop for the one
   * window the claims leave (see RecordBatchWriter). Returns the resource types it corrected.
   */
  async reconcileDay(tenantId: string, day: string): Promise<string[]> {
    const raw = await this.rawRecords(tenantId, day);
    const expected = new Map<string, { quantity: number; unit: string; events: number }>();
    for (const record of raw) {
      const kind = kindOf(record.resourceType);
      const current = expected.get(record.resourceType);
      expected.set(record.resourceType, {
        quantity: combine(current?.quantity, record.quantity, kind),
        unit: record.unit,
        events: (current?.events ?? 0) + 1,
      });
    }
    const rollups = await this.dailyRollups(tenantId, day, day);
    const corrected: string[] = [];
    for (const [resourceType, value] of expected) {
      const stored = rollups.find((rollup) => rollup.resourceType === resourceType);
      if (stored && stored.quantity === value.quantity) continue;
      await this.#documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: usageKeys.rollup(tenantId, day, resourceType),
          UpdateExpression:
            'SET tenantId = :tenant, #day = :day, resourceType = :type, #unit = :unit, kind = :kind, quantity = :q, events = :n',
          ExpressionAttributeNames: { '#day': 'day', '#unit': 'unit' },
          ExpressionAttributeValues: {
            ':tenant': tenantId,
            ':day': day,
            ':type': resourceType,
            ':unit': value.unit,
            ':kind': kindOf(resourceType),
            ':q': value.quantity,
            ':n': value.events,
          },
        }),
      );
      corrected.push(resourceType);
    }
    return corrected;
  }

  /**
   * Writes raw records and their rollups directly, 25 items a call: the benchmark's way to seed a
   * large month without going through the bus. The rollups are recomputed per day afterwards.
   */
  async seedRawRecords(records: readonly RawUsage[]): Promise<void> {
    await batchPutAll(
      this.#documents,
      this.tableName,
      records.map((record) => ({
        ...usageKeys.raw(record.tenantId, record.at, record.resourceType, record.eventId),
        ...record,
        state: 'applied',
      })),
    );
    const days = new Set(records.map((record) => `${record.tenantId}|${dayOf(record.at)}`));
    for (const entry of days) {
      const [tenantId, day] = entry.split('|') as [string, string];
      await this.reconcileDay(tenantId, day);
    }
  }
}

/** Month totals per resource type from daily rollups. */
export function totalsOf(rollups: readonly DailyRollup[]): MonthTotal[] {
  const totals = new Map<string, MonthTotal>();
  for (const rollup of rollups) {
    const current = totals.get(rollup.resourceType);
    totals.set(rollup.resourceType, {
      resourceType: rollup.resourceType,
      quantity: combine(current?.quantity, rollup.quantity, rollup.kind),
      unit: rollup.unit,
      kind: rollup.kind,
    });
  }
  return [...totals.values()].sort((a, b) => a.resourceType.localeCompare(b.resourceType));
}
