import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditDetail, AuditStore } from '#shared/records/audit-store';
import { bucketAttribute, bucketOf } from '#shared/records/latency-histogram';
import {
  hourOf,
  isError,
  METRIC_LEDGER_DAYS,
  type MetricDetail,
  metricKeys,
} from '#shared/records/metrics-store';
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

export type EntryOutcome =
  | { readonly status: 'applied' | 'replayed' }
  | { readonly status: 'failed'; readonly error: Error };

/** Another delivery of the same event holds its claim: the entry fails, and its queue redelivers it later. */
export class EventInFlight extends Error {
  constructor(eventId: string) {
    super(`Event ${eventId} is being applied by another delivery`);
    this.name = 'EventInFlight';
  }
}

export interface RecordBatchWriterOptions {
  readonly usageTable: string;
  /** Where audit records go; a writer without it fails entries that carry one. */
  readonly audit?: Pick<AuditStore, 'record'>;
  /**
   * How long a claim of an unfinished delivery is trusted to be alive: longer than a consumer's
   * timeout, shorter than its queue's visibility timeout, so a redelivery of a batch whose
   * function died takes the claim over. @default 120 s
   */
  readonly leaseMs?: number;
  /** How many DynamoDB calls run at once (a batch has up to 1,000 events). @default 64 */
  readonly concurrency?: number;
  readonly now?: () => number;
}

type Part = 'usage' | 'metric';

interface Claim {
  readonly entry: RecordEntry;
  readonly key: { readonly pk: string; readonly sk: string };
  /** The parts this delivery still has to add to the aggregates. */
  readonly parts: readonly Part[];
}

interface Aggregate {
  readonly part: Part;
  readonly update: () => UpdateCommand;
  readonly members: Claim[];
  /** A gauge whose value is not a new peak: the condition failing is the expected answer. */
  readonly peak?: true;
}

/** How long the marker of a finished batch is kept (TTL), as the metric samples' claims are. */
const DONE_MARKER_DAYS = METRIC_LEDGER_DAYS;

/** Runs `work` over `items` with at most `limit` at once; results in the order of `items`. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * Stores a batch of delivered events' records: each audit record once (a conditional put keyed by
 * the event), and the usage and metric samples added to their aggregates once per event, with one
 * update per aggregate for the whole batch (a tenant's api_calls of a day, a tenant's hour of
 * metrics), not one per event. How every event is counted once:
 *
 * 1. **claim**: a conditional put of the event's own item — its raw usage record (kept: the month
 *    close recomputes rollups from them), or for an event without usage a small claim of its
 *    metric sample that expires after a week. Only one delivery of an event creates it; the claim
 *    names the batch and holds a lease.
 * 2. **aggregate**: the claimed events' quantities summed per aggregate, each aggregate one atomic
 *    `ADD` (a gauge: its peak, conditionally).
 * 3. **settle**: when every aggregate was added, one marker says the batch is done: every claim
 *    naming it counts as applied. When some failed, the claims of the events that were fully added
 *    are marked applied, those partly added remember which parts were, and the rest are released
 *    (their lease ended), so the redelivery of the failed events adds exactly what is missing.
 *
 * A delivery that finds the event's claim applied (or its batch done) does nothing; one that finds
 * a live lease fails the entry (`EventInFlight`: the queue redelivers it); one that finds a lease
 * run out takes the claim over. The one window left is a function dying between its aggregates and
 * its marker: the takeover adds those events again. `UsageStore.reconcileDay` recomputes a day's
 * rollups from the raw records, and the month close runs it, so an export is exact even then.
 */
export class RecordBatchWriter {
  readonly #documents: DynamoDBDocumentClient;
  readonly #options: RecordBatchWriterOptions;
  readonly #leaseMs: number;
  readonly #now: () => number;
  readonly #concurrency: number;

  constructor(client: DynamoDBClient, options: RecordBatchWriterOptions) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#options = options;
    this.#leaseMs = options.leaseMs ?? 120_000;
    this.#now = options.now ?? Date.now;
    this.#concurrency = options.concurrency ?? 64;
  }

  async write(entries: readonly RecordEntry[]): Promise<Map<string, EntryOutcome>> {
    const outcomes = new Map<string, EntryOutcome>();
    const token = randomUUID();
    const concurrency = this.#concurrency;
    // The same event twice in one batch (a duplicate delivery): its first entry stands for all.
    const firsts = new Map<string, RecordEntry>();
    const duplicates: RecordEntry[] = [];
    for (const entry of entries) {
      if (firsts.has(entry.eventId)) duplicates.push(entry);
      else firsts.set(entry.eventId, entry);
    }

    const doneBatches = new Map<string, Promise<boolean>>();
    const claims = (
      await mapLimit([...firsts.values()], concurrency, async (entry): Promise<Claim | null> => {
        try {
          if (entry.audit) {
            if (!this.#options.audit) throw new Error('This writer stores no audit records');
            await this.#options.audit.record(entry.eventId, entry.audit);
          }
          if (!entry.usage && !entry.metric) {
            outcomes.set(entry.id, { status: 'applied' });
            return null;
          }
          const claim = await this.#claim(entry, token, doneBatches);
          if (!claim) outcomes.set(entry.id, { status: 'replayed' });
          return claim;
        } catch (error) {
          outcomes.set(entry.id, { status: 'failed', error: asError(error) });
          return null;
        }
      })
    ).filter((claim): claim is Claim => claim !== null);

    const aggregates = this.#aggregatesOf(claims);
    const failures = new Map<Aggregate, Error>();
    await mapLimit(aggregates, concurrency, async (aggregate) => {
      try {
        await this.#documents.send(aggregate.update());
      } catch (error) {
        if (aggregate.peak && error instanceof ConditionalCheckFailedException) return;
        failures.set(aggregate, asError(error));
      }
    });

    await this.#settle(claims, failures, token, outcomes);
    for (const duplicate of duplicates) {
      const first = outcomes.get(firsts.get(duplicate.eventId)?.id ?? '');
      outcomes.set(duplicate.id, first?.status === 'failed' ? first : { status: 'replayed' });
    }
    return outcomes;
  }

  /** The entry's claim, or null when a delivery before this one applied it (a replay). */
  async #claim(
    entry: RecordEntry,
    token: string,
    doneBatches: Map<string, Promise<boolean>>,
  ): Promise<Claim | null> {
    const parts: Part[] = [];
    if (entry.usage) parts.push('usage');
    if (entry.metric) parts.push('metric');
    const { usage, metric } = entry;
    const key = usage
      ? usageKeys.raw(usage.tenantId, usage.at, usage.resourceType, entry.eventId)
      : metricKeys.ledger(metric?.tenantId ?? null, metric?.at ?? '', entry.eventId);
    const body: Record<string, unknown> = usage
      ? { eventId: entry.eventId, ...usage }
      : { expiresAt: Math.floor(Date.parse(metric?.at ?? '') / 1000) + METRIC_LEDGER_DAYS * 86_400 };
    const leaseUntil = this.#now() + this.#leaseMs;
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.#options.usageTable,
          Item: { ...body, ...key, state: 'pending', leaseUntil, batch: token },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { entry, key, parts };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // Someone delivered this event before: applied, in flight, or dead with its lease run out.
    for (let look = 0; look < 3; look++) {
      const { Item } = await this.#documents.send(
        new GetCommand({ TableName: this.#options.usageTable, Key: key, ConsistentRead: true }),
      );
      if (!Item || Item.state === 'applied') return null;
      if (typeof Item.batch === 'string') {
        const batch = Item.batch;
        if (!doneBatches.has(batch)) doneBatches.set(batch, this.#isDone(batch));
        if (await doneBatches.get(batch)) return null;
      }
      const lease = Number(Item.leaseUntil ?? 0);
      if (lease > this.#now()) throw new EventInFlight(entry.eventId);
      const applied = new Set<string>((Item.appliedParts as string[] | undefined) ?? []);
      try {
        await this.#documents.send(
          new UpdateCommand({
            TableName: this.#options.usageTable,
            Key: key,
            UpdateExpression: 'SET leaseUntil = :new, #batch = :token',
            ConditionExpression: '#state = :pending AND leaseUntil = :old',
            // Both are DynamoDB reserved words.
            ExpressionAttributeNames: { '#state': 'state', '#batch': 'batch' },
            ExpressionAttributeValues: {
              ':new': leaseUntil,
              ':old': lease,
              ':pending': 'pending',
              ':token': token,
            },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        continue; // Taken over or finished by another delivery meanwhile: look again.
      }
      const missing = parts.filter((part) => !applied.has(part));
      return { entry, key, parts: missing };
    }
    throw new EventInFlight(entry.eventId);
  }

  async #isDone(batch: string): Promise<boolean> {
    const { Item } = await this.#documents.send(
      new GetCommand({
        TableName: this.#options.usageTable,
        Key: { pk: `BATCH#${batch}`, sk: 'DONE' },
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  /** One update per aggregate the claims add to: a usage rollup of a day, an hour of metrics. */
  #aggregatesOf(claims: readonly Claim[]): Aggregate[] {
    const table = this.#options.usageTable;
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
      const buckets = new Map<string, number>();
      for (const sample of samples) {
        const name = bucketAttribute(bucketOf(sample.latencyMs));
        buckets.set(name, (buckets.get(name) ?? 0) + 1);
      }
      const names: Record<string, string> = {};
      const values: Record<string, number> = {
        ':n': samples.length,
        ':errors': samples.filter((sample) => isError(sample.statusCode)).length,
        ':client': samples.filter((sample) => sample.statusCode >= 400 && sample.statusCode < 500).length,
        ':latency': samples.reduce((sum, sample) => sum + sample.latencyMs, 0),
      };
      const adds = ['requests :n', 'errors :errors', 'clientErrors :client', 'latencySumMs :latency'];
      for (const [name, count] of buckets) {
        names[`#${name}`] = name;
        values[`:${name}`] = count;
        adds.push(`#${name} :${name}`);
      }
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

  async #settle(
    claims: readonly Claim[],
    failures: ReadonlyMap<Aggregate, Error>,
    token: string,
    outcomes: Map<string, EntryOutcome>,
  ): Promise<void> {
    const failedParts = new Map<Claim, { parts: Set<Part>; error: Error }>();
    for (const [aggregate, error] of failures) {
      for (const member of aggregate.members) {
        const failed = failedParts.get(member) ?? { parts: new Set<Part>(), error };
        failed.parts.add(aggregate.part);
        failedParts.set(member, failed);
      }
    }
    if (claims.length === 0) return;
    if (failedParts.size === 0) {
      try {
        await this.#documents.send(
          new PutCommand({
            TableName: this.#options.usageTable,
            Item: {
              pk: `BATCH#${token}`,
              sk: 'DONE',
              events: claims.length,
              expiresAt: Math.floor(this.#now() / 1000) + DONE_MARKER_DAYS * 86_400,
            },
          }),
        );
        for (const claim of claims) outcomes.set(claim.entry.id, { status: 'applied' });
        return;
      } catch {
        // No marker: each claim is marked on its own below.
      }
    }
    await mapLimit(claims, this.#concurrency, async (claim) => {
      const failed = failedParts.get(claim);
      const applied = claim.parts.filter((part) => !failed?.parts.has(part));
      if (!failed) {
        // Added in full: applied, even if the mark fails (a redelivery would add it twice).
        outcomes.set(claim.entry.id, { status: 'applied' });
        await this.#mark(claim, 'SET #state = :applied REMOVE leaseUntil', { ':applied': 'applied' }).catch(
          () => undefined,
        );
        return;
      }
      // Remember what was added, and end the lease: the redelivery adds only what is missing, at once.
      // If even this fails, the lease runs out and the redelivery adds every part again.
      await this.#mark(
        claim,
        applied.length > 0 ? 'SET leaseUntil = :zero ADD appliedParts :parts' : 'SET leaseUntil = :zero',
        applied.length > 0 ? { ':zero': 0, ':parts': new Set(applied) } : { ':zero': 0 },
      ).catch(() => undefined);
      outcomes.set(claim.entry.id, { status: 'failed', error: failed.error });
    });
  }

  async #mark(claim: Claim, expression: string, values: Record<string, unknown>): Promise<void> {
    await this.#documents.send(
      new UpdateCommand({
        TableName: this.#options.usageTable,
        Key: claim.key,
        UpdateExpression: expression,
        ...(expression.includes('#state') ? { ExpressionAttributeNames: { '#state': 'state' } } : {}),
        ExpressionAttributeValues: values,
      }),
    );
  }
}
