import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mapBounded } from '#shared/core/bounded-concurrency';
import { analyticsAggregatesOf } from '#shared/records/analytics-aggregates';
import type { AuditDetail, AuditStore } from '#shared/records/audit-store';
import { METRIC_LEDGER_DAYS, metricKeys } from '#shared/records/metrics-store';
import {
  type Aggregate,
  aggregatesOf,
  asError,
  type Claim,
  type Insert,
  type InsertOutcome,
  insertAll,
  type Part,
  partsOf,
  type RecordEntry,
} from '#shared/records/record-batch-parts';
import { usageKeys } from '#shared/records/usage-store';

export type { RecordEntry } from '#shared/records/record-batch-parts';

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
  readonly audit?: Pick<AuditStore, 'insertOf'>;
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

/** How long the marker of a finished batch is kept (TTL), as the metric samples' claims are. */
const DONE_MARKER_DAYS = METRIC_LEDGER_DAYS;
/**
 * Stores a batch of delivered events' records: each audit record once (a conditional put keyed by
 * the event), and the usage and metric samples added to their aggregates once per event, with one
 * update per aggregate for the whole batch (a tenant's api_calls of a day, a tenant's hour of
 * metrics), not one per event. How every event is counted once:
 *
 * 0. **audit**: each audit record inserted where no item has its key (a PartiQL INSERT, 25 to a
 *    BatchExecuteStatement call, where a conditional PutItem each would take 25 calls).
 * 1. **claim**: the same kind of insert of the event's own item — its raw usage record (kept: the
 *    month close recomputes rollups from them), or for an event without usage a small claim of
 *    its metric sample that expires after a week. Only one delivery of an event creates it; the
 *    claim names the batch and holds a lease.
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
    const fail = (entry: RecordEntry, error: unknown) =>
      outcomes.set(entry.id, { status: 'failed', error: asError(error) });

    // 1. Audit records: inserted where none has the event's key, 25 to a call (a replay's is there).
    const audit = this.#options.audit;
    const audited: RecordEntry[] = [];
    const unaudited: RecordEntry[] = [];
    for (const entry of firsts.values()) {
      if (!entry.audit) unaudited.push(entry);
      else if (!audit) fail(entry, new Error('This writer stores no audit records'));
      else audited.push(entry);
    }
    const auditOutcomes = audit
      ? await insertAll(
          this.#documents,
          audited.map((entry) => audit.insertOf(entry.eventId, entry.audit as AuditDetail)),
        )
      : [];
    const recorded = [...unaudited];
    for (const [index, entry] of audited.entries()) {
      const outcome = auditOutcomes[index] as InsertOutcome;
      if (outcome instanceof Error) fail(entry, outcome);
      else recorded.push(entry);
    }

    // 2. Claims: each event's own item in the usage table, inserted the same way.
    const claiming: RecordEntry[] = [];
    for (const entry of recorded) {
      if (entry.usage || entry.metric) claiming.push(entry);
      else outcomes.set(entry.id, { status: 'applied' });
    }
    const leaseUntil = this.#now() + this.#leaseMs;
    const claimOutcomes = await insertAll(
      this.#documents,
      claiming.map((entry) => this.#claimInsert(entry, token, leaseUntil)),
    );
    const claims = (
      await mapBounded(claiming, concurrency, async (entry, index): Promise<Claim | null> => {
        const outcome = claimOutcomes[index] as InsertOutcome;
        if (outcome instanceof Error) {
          fail(entry, outcome);
          return null;
        }
        if (outcome === 'inserted') return { entry, key: this.#claimKey(entry), parts: partsOf(entry) };
        try {
          // Someone delivered this event before: applied, in flight, or dead with its lease run out.
          const claim = await this.#reclaim(entry, token, doneBatches);
          if (!claim) outcomes.set(entry.id, { status: 'replayed' });
          return claim;
        } catch (error) {
          fail(entry, error);
          return null;
        }
      })
    ).filter((claim): claim is Claim => claim !== null);

    const table = this.#options.usageTable;
    const aggregates = [...aggregatesOf(table, claims), ...analyticsAggregatesOf(table, claims)];
    const failures = new Map<Aggregate, Error>();
    await mapBounded(aggregates, concurrency, async (aggregate) => {
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

  #claimKey(entry: RecordEntry): { pk: string; sk: string } {
    const { usage, metric } = entry;
    return usage
      ? usageKeys.raw(usage.tenantId, usage.at, usage.resourceType, entry.eventId)
      : metricKeys.ledger(metric?.tenantId ?? null, metric?.at ?? '', entry.eventId);
  }

  /**
   * An event's claim: its raw usage record (kept: the month close recomputes rollups from them),
   * or for an event without usage a small claim of its metric sample that expires after a week;
   * it names this delivery's batch and holds a lease.
   */
  #claimInsert(entry: RecordEntry, token: string, leaseUntil: number): Insert {
    const { usage, metric } = entry;
    const body: Record<string, unknown> = usage
      ? { eventId: entry.eventId, ...usage }
      : { expiresAt: Math.floor(Date.parse(metric?.at ?? '') / 1000) + METRIC_LEDGER_DAYS * 86_400 };
    return {
      table: this.#options.usageTable,
      item: { ...body, ...this.#claimKey(entry), state: 'pending', leaseUntil, batch: token },
    };
  }

  /**
   * The claim of an event whose item exists: null when a delivery before this one applied it (a
   * replay); EventInFlight while another delivery's lease is alive; taken over when it ran out.
   */
  async #reclaim(
    entry: RecordEntry,
    token: string,
    doneBatches: Map<string, Promise<boolean>>,
  ): Promise<Claim | null> {
    const parts = partsOf(entry);
    const key = this.#claimKey(entry);
    const leaseUntil = this.#now() + this.#leaseMs;
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
    await mapBounded(claims, this.#concurrency, async (claim) => {
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
