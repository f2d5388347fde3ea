import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { composed } from '#shared/composition/handler';
import type { RecordBatches } from '#shared/composition/record-services';
import type { Services } from '#shared/composition/services';
import { logger } from '#shared/core/logger';
import { InvalidEventDetail } from '#shared/events/consumer';
import { AuditRecord, MetricSample, RequestRecorded, UsageRecorded } from '#shared/events/events';
import type { EntryOutcome, RecordEntry } from '#shared/records/record-batch';

/** The detail-types the records consumer takes (its subscription's, shared/events/subscriptions.ts). */
export const RECORD_DETAIL_TYPES = [
  RequestRecorded.detailType,
  AuditRecord.detailType,
  UsageRecorded.detailType,
  MetricSample.detailType,
] as const;

interface BusEnvelope {
  readonly id?: unknown;
  readonly 'detail-type'?: unknown;
  readonly detail?: unknown;
}

/**
 * The records of one SQS message, whose body is the EventBridge event as the rule delivered it.
 * A body that is not one of the record events, or whose detail its schema refuses, throws: the
 * message fails every time and its queue moves it to the dead-letter queue, never dropped silently.
 */
export function entryOf(record: Pick<SQSRecord, 'messageId' | 'body'>): RecordEntry {
  let event: BusEnvelope;
  try {
    event = JSON.parse(record.body) as BusEnvelope;
  } catch {
    throw new InvalidEventDetail('(unparsable message)', 'the body is not JSON');
  }
  const detailType = String(event['detail-type'] ?? '(none)');
  if (typeof event.id !== 'string' || event.id.length === 0) {
    throw new InvalidEventDetail(detailType, 'the event has no id');
  }
  const base = { id: record.messageId, eventId: event.id };
  const fail = (issues: readonly { path: PropertyKey[] }[]) => {
    throw new InvalidEventDetail(detailType, issues.map((issue) => issue.path.join('.')).join(', '));
  };
  switch (detailType) {
    case RequestRecorded.detailType: {
      const parsed = RequestRecorded.schema.safeParse(event.detail);
      if (!parsed.success) return fail(parsed.error.issues);
      const { audit, usage, metric } = parsed.data;
      return { ...base, metric, ...(audit ? { audit } : {}), ...(usage ? { usage } : {}) };
    }
    case AuditRecord.detailType: {
      const parsed = AuditRecord.schema.safeParse(event.detail);
      return parsed.success ? { ...base, audit: parsed.data } : fail(parsed.error.issues);
    }
    case UsageRecorded.detailType: {
      const parsed = UsageRecorded.schema.safeParse(event.detail);
      return parsed.success ? { ...base, usage: parsed.data } : fail(parsed.error.issues);
    }
    case MetricSample.detailType: {
      const parsed = MetricSample.schema.safeParse(event.detail);
      return parsed.success ? { ...base, metric: parsed.data } : fail(parsed.error.issues);
    }
    default:
      throw new InvalidEventDetail(detailType, `expected one of ${RECORD_DETAIL_TYPES.join(', ')}`);
  }
}

/**
 * Gathers the entries of one batch as Powertools hands the records out (all at once, in parallel)
 * and writes them together once every record has either submitted its entry or failed to decode;
 * each record's promise then settles with its own entry's outcome.
 */
class BatchCollector {
  readonly #expected: number;
  readonly #write: (entries: readonly RecordEntry[]) => Promise<Map<string, EntryOutcome>>;
  readonly #entries: RecordEntry[] = [];
  readonly #waiting = new Map<string, { resolve(): void; reject(error: Error): void }>();
  #settled = 0;

  constructor(
    expected: number,
    write: (entries: readonly RecordEntry[]) => Promise<Map<string, EntryOutcome>>,
  ) {
    this.#expected = expected;
    this.#write = write;
  }

  submit(entry: RecordEntry): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.#waiting.set(entry.id, { resolve, reject }));
    this.#entries.push(entry);
    this.#arrived();
    return done;
  }

  withdraw(): void {
    this.#arrived();
  }

  #arrived(): void {
    this.#settled++;
    if (this.#settled < this.#expected || this.#entries.length === 0) return;
    void this.#write(this.#entries).then(
      (outcomes) => {
        for (const [id, waiting] of this.#waiting) {
          const outcome = outcomes.get(id);
          if (outcome?.status === 'failed') waiting.reject(outcome.error);
          else if (outcome) waiting.resolve();
          else waiting.reject(new Error(`No outcome for message ${id}`));
        }
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const waiting of this.#waiting.values()) waiting.reject(failure);
      },
    );
  }
}

export type RecordsHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/**
 * The SQS handler of the records queue: the batch's messages decoded, their records written
 * together (RecordBatchWriter: once per event, one update per aggregate), and Powertools' partial
 * batch response naming the messages that failed, so only those are redelivered — a poison message
 * ends in the dead-letter queue and the rest of its batch is kept. When every message failed the
 * handler throws (Powertools' FullBatchFailureError), as Lambda expects for a whole-batch failure.
 */
export function recordsHandler(batches: () => RecordBatches): RecordsHandler {
  return async (event, context) => {
    const processor = new BatchProcessor(EventType.SQS);
    const collector = new BatchCollector(event.Records.length, (entries) => batches().write(entries));
    const outcome = { decoded: 0, invalid: 0 };
    const response = await processPartialResponse(
      event,
      async (record: SQSRecord) => {
        let entry: RecordEntry;
        try {
          entry = entryOf(record);
        } catch (error) {
          outcome.invalid++;
          collector.withdraw();
          logger.error('record message refused', { messageId: record.messageId, error });
          throw error;
        }
        outcome.decoded++;
        await collector.submit(entry);
      },
      processor,
      { ...(context ? { context } : {}), processInParallel: true },
    );
    logger.info('record batch', {
      messages: event.Records.length,
      ...outcome,
      failed: response.batchItemFailures.length,
    });
    return response;
  };
}

/**
 * The records consumer built on a batch writer, or on the function's services (its composition
 * root's), so that tests run batches against the real DynamoDB API.
 */
export const recordsConsumer = (batches: RecordBatches | ((services: Services) => RecordBatches)) =>
  composed((services: Services) =>
    recordsHandler(() => (typeof batches === 'function' ? batches(services) : batches)),
  );
