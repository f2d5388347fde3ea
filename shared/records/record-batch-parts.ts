/**
 * The parts of the records batch writer (record-batch.ts): its inserts (PartiQL INSERTs, 25 to a
 * BatchExecuteStatement call), its aggregates (one update per usage rollup and hour of metrics),
 * and the small helpers both use.
 */
import {
  BatchExecuteStatementCommand,
  type DynamoDBDocumentClient,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mapBounded } from '#shared/core/bounded-concurrency';
import { isAnalyticsUsage } from '#shared/records/analytics-keys';
import type { AuditDetail } from '#shared/records/audit-store';
import { histogramAdds } from '#shared/records/latency-histogram';
import { hourOf, isError, type MetricDetail, metricKeys } from '#shared/records/metrics-store';
import { dayOf, kindOf, type UsageDetail, usageKeys } from '#shared/records/usage-store';

/** The records of one delivered event (one SQS message), with the id its outcome is reported by. */
export interface RecordEntry {
  /** What the outcome is keyed by (the SQS message id). */
  readonly id: string;
  /** The event's id: every record of it is stored at most once by this id. */
  readonly eventId: string;
  readonly audit?: AuditDetail;
  readonly usage?: UsageDetail;
  readonly metric?: MetricDetail;
}

/**
 * What a claim adds to, one aggregate of each per event: its usage rollup of the day, its hour of
 * metrics, and the fleet analytics of the month (analytics-aggregates.ts): its tenant's month
 * (usage and metric apart), the fleet's month, its user's activity. A part is added once, so one
 * aggregate failing never makes a redelivery add another one twice.
 */
export type Part = 'usage' | 'metric' | 'monthUsage' | 'monthMetric' | 'fleetMetric' | 'activeUser';

export interface Claim {
  readonly entry: RecordEntry;
  readonly key: { readonly pk: string; readonly sk: string };
  /** The parts this delivery still has to add to the aggregates. */
  readonly parts: readonly Part[];
}

export interface Aggregate {
  readonly part: Part;
  readonly update: () => UpdateCommand;
  readonly members: Claim[];
  /** A gauge whose value is not a new peak: the condition failing is the expected answer. */
  readonly peak?: true;
}

/**
 * Statements per BatchExecuteStatement: its most, 25
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchExecuteStatement.html).
 */
const STATEMENTS_PER_CALL = 25;

/** An item to insert only where no item has its key (a PartiQL INSERT). */
export interface Insert {
  readonly table: string;
  readonly item: Record<string, unknown>;
}

/** What became of one insert: stored, refused because its key exists (a replay), or failed. */
export type InsertOutcome = 'inserted' | 'duplicate' | Error;

/** `INSERT INTO "t" VALUE {'a': ?, …}` and its parameters, the item's defined attributes in order. */
function insertStatement({ table, item }: Insert): { Statement: string; Parameters: unknown[] } {
  const entries = Object.entries(item).filter(([, value]) => value !== undefined);
  const tuple = entries.map(([name]) => `'${name.replace(/'/g, "''")}': ?`).join(', ');
  return {
    Statement: `INSERT INTO "${table}" VALUE {${tuple}}`,
    Parameters: entries.map(([, value]) => value),
  };
}

export const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/** The parts of an event that are added to aggregates. */
export function partsOf(entry: RecordEntry): Part[] {
  const parts: Part[] = [];
  if (entry.usage) {
    parts.push('usage');
    if (isAnalyticsUsage(entry.usage.resourceType)) parts.push('monthUsage');
  }
  if (entry.metric) {
    parts.push('metric');
    // The fleet is the tenants: platform routes (health, /me, /platform/*) are not in its figures.
    if (entry.metric.tenantId) parts.push('monthMetric', 'fleetMetric');
    if (entry.metric.userId) parts.push('activeUser');
  }
  return parts;
}

/**
 * Inserts every item where no item has its key, in BatchExecuteStatement calls of 25 INSERTs
 * (a few at once): one call where a PutItem each would take 25. Each outcome in the order of
 * `inserts`; a call that fails as a whole fails each of its inserts with its error.
 */
export async function insertAll(
  documents: DynamoDBDocumentClient,
  inserts: readonly Insert[],
  concurrency = 8,
): Promise<InsertOutcome[]> {
  const calls = Array.from({ length: Math.ceil(inserts.length / STATEMENTS_PER_CALL) }, (_, call) =>
    inserts.slice(call * STATEMENTS_PER_CALL, (call + 1) * STATEMENTS_PER_CALL),
  );
  const answered = await mapBounded(calls, concurrency, async (batch) => {
    try {
      const { Responses } = await documents.send(
        new BatchExecuteStatementCommand({ Statements: batch.map(insertStatement) }),
      );
      return batch.map((_, index): InsertOutcome => {
        const error = Responses?.[index]?.Error;
        if (!error)
          return Responses?.[index] ? 'inserted' : new Error('BatchExecuteStatement answered no response');
        if (error.Code === 'DuplicateItem') return 'duplicate';
        return new Error(`${error.Code ?? 'Error'}: ${error.Message ?? 'the statement failed'}`);
      });
    } catch (error) {
      return batch.map(() => asError(error));
    }
  });
  return answered.flat();
}

/** One update per aggregate the claims add to: a usage rollup of a day, an hour of metrics. */
export function aggregatesOf(table: string, claims: readonly Claim[]): Aggregate[] {
  const usage = new Map<string, { detail: UsageDetail; quantity: number; members: Claim[] }>();
  const metrics = new Map<string, { detail: MetricDetail; members: Claim[]; samples: MetricDetail[] }>();
  for (const claim of claims) {
    const { usage: record, metric } = claim.entry;
    if (record && claim.parts.includes('usage')) {
      const id = `${record.tenantId}|${dayOf(record.at)}|${record.resourceType}`;
      const group = usage.get(id) ?? { detail: record, quantity: 0, members: [] };
      group.quantity =
        kindOf(record.resourceType) === 'gauge'
          ? Math.max(group.quantity, record.quantity)
          : group.quantity + record.quantity;
      group.members.push(claim);
      usage.set(id, group);
    }
    if (metric && claim.parts.includes('metric')) {
      const id = `${metric.tenantId ?? ''}|${hourOf(metric.at)}`;
      const group = metrics.get(id) ?? { detail: metric, members: [], samples: [] };
      group.members.push(claim);
      group.samples.push(metric);
      metrics.set(id, group);
    }
  }
  const aggregates: Aggregate[] = [];
  for (const { detail, quantity, members } of usage.values()) {
    const day = dayOf(detail.at);
    const kind = kindOf(detail.resourceType);
    const setFixed = 'tenantId = :tenant, #day = :day, resourceType = :type, #unit = :unit, kind = :kind';
    const values = {
      ':tenant': detail.tenantId,
      ':day': day,
      ':type': detail.resourceType,
      ':unit': detail.unit,
      ':kind': kind,
      ':q': quantity,
      ':n': members.length,
    };
    const base = {
      TableName: table,
      Key: usageKeys.rollup(detail.tenantId, day, detail.resourceType),
      ExpressionAttributeNames: { '#q': 'quantity', '#unit': 'unit', '#day': 'day' },
      ExpressionAttributeValues: values,
    };
    aggregates.push(
      kind === 'counter'
        ? {
            part: 'usage',
            members,
            update: () =>
              new UpdateCommand({ ...base, UpdateExpression: `SET ${setFixed} ADD #q :q, events :n` }),
          }
        : {
            part: 'usage',
            members,
            peak: true,
            update: () =>
              new UpdateCommand({
                ...base,
                UpdateExpression: `SET ${setFixed}, #q = :q ADD events :n`,
                ConditionExpression: 'attribute_not_exists(#q) OR #q < :q',
              }),
          },
    );
  }
  for (const { detail, members, samples } of metrics.values()) {
    const histogram = histogramAdds(samples.map((sample) => sample.latencyMs));
    const names: Record<string, string> = histogram.names;
    const values: Record<string, number> = {
      ':n': samples.length,
      ':errors': samples.filter((sample) => isError(sample.statusCode)).length,
      ':client': samples.filter((sample) => sample.statusCode >= 400 && sample.statusCode < 500).length,
      ':latency': samples.reduce((sum, sample) => sum + sample.latencyMs, 0),
      ...histogram.values,
    };
    const adds = [
      'requests :n',
      'errors :errors',
      'clientErrors :client',
      'latencySumMs :latency',
      ...histogram.adds,
    ];
    aggregates.push({
      part: 'metric',
      members,
      update: () =>
        new UpdateCommand({
          TableName: table,
          Key: metricKeys.hour(detail.tenantId, hourOf(detail.at)),
          UpdateExpression: `ADD ${adds.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
    });
  }
  return aggregates;
}
