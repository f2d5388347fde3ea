import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ScaledClock } from '#infra/local/async-invoke';
import { LocalQueue } from '#infra/local/sqs-queue';
import { recordsHandler } from '#shared/composition/record-consumers';
import { RequestRecorded } from '#shared/events/events';
import { AuditStore } from '#shared/records/audit-store';
import { MetricsStore } from '#shared/records/metrics-store';
import { RecordBatchWriter } from '#shared/records/record-batch';
import { UsageStore, usageKeys } from '#shared/records/usage-store';
import {
  auditItemsOf,
  type BusEvent,
  busEvent,
  deliverUntilDone,
  failedIdsOf,
  fakeTenant,
  sqsRecordOf,
} from '../support/record-batches.ts';

/*
 * The records consumer on batches, against the platform's DynamoDB API: whole and partial replays
 * of a batch store each audit record once and count usage and metrics once, rollups equal the raw
 * records' sums, a poison message is failed alone (and dead-lettered by its queue) while the rest
 * of its batch is kept, a failed aggregate is retried without counting the others twice, and a
 * claim of a delivery that died is taken over.
 */

const info = inject('platform');
const aws = { region: info.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const dynamo = new DynamoDBClient({ ...aws, endpoint: info.endpoints.dynamodb });
const documents = DynamoDBDocumentClient.from(dynamo);
const audit = new AuditStore(dynamo, info.tables.audit, 400);
const usage = new UsageStore(dynamo, info.tables.usage);
const metrics = new MetricsStore(dynamo, info.tables.usage);
const writer = new RecordBatchWriter(dynamo, { usageTable: info.tables.usage, audit });
const handler = recordsHandler(() => writer);

afterAll(() => dynamo.destroy());

/** A request's event: always a metric sample; usage and an audit record as a real request would have them. */
function requestEvent(
  tenantId: string,
  at: string,
  options: { mutating?: boolean; latencyMs?: number } = {},
) {
  const requestId = randomUUID();
  return busEvent(RequestRecorded, {
    requestId,
    ...(options.mutating
      ? {
          audit: {
            tenantId,
            userId: 'u1',
            action: 'rows.insert',
            resource: `/tenants/${tenantId}/x`,
            outcome: 'success',
            statusCode: 201,
            requestId,
            at,
            details: {},
          },
        }
      : {}),
    usage: { tenantId, resourceType: 'api_calls', quantity: 1, unit: 'calls', at },
    metric: { tenantId, operationId: 'listRows', statusCode: 200, latencyMs: options.latencyMs ?? 12, at },
  });
}

async function apiCalls(tenantId: string, day: string): Promise<number | undefined> {
  const [rollup] = await usage.dailyRollups(tenantId, day, day, 'api_calls');
  return rollup?.quantity;
}

const day = '2022-03-04';
const at = (minute: number) => `${day}T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('a batch replayed', () => {
  it('whole: every audit record once, usage and metrics counted once, rollups equal the raw sums', async () => {
    // Arrange: 30 requests of 3 tenants, every third one mutating.
    const tenants = [fakeTenant(), fakeTenant(), fakeTenant()];
    const events = Array.from({ length: 30 }, (_, i) =>
      requestEvent(tenants[i % 3] as string, at(i % 5), { mutating: i % 3 === 0 && i % 2 === 0 }),
    );
    const batch = events.map((event) => sqsRecordOf(event));
    // Act: the batch, then the same batch again (its messages redelivered), then once more.
    const first = await failedIdsOf(handler, batch);
    const second = await failedIdsOf(
      handler,
      batch.map((record) => sqsRecordOf(record.body, 2, record.messageId)),
    );
    const third = await failedIdsOf(handler, batch);
    // Assert
    expect([first, second, third]).toEqual([[], [], []]);
    for (const tenantId of tenants) {
      const mine = events.filter(
        (event) => (event.detail as { metric: { tenantId: string } }).metric.tenantId === tenantId,
      );
      const audited = mine.filter(
        (event) => (event.detail as { audit?: unknown }).audit !== undefined,
      ).length;
      expect((await auditItemsOf(dynamo, info.tables.audit, tenantId)).length).toBe(audited);
      expect(await apiCalls(tenantId, day)).toBe(10);
      expect(await usage.rawRecords(tenantId, day)).toHaveLength(10);
      expect(await usage.reconcileDay(tenantId, day)).toEqual([]);
      const [hour] = await metrics.hours(tenantId, at(0), at(0));
      expect(hour?.requests).toBe(10);
    }
  });

  it('partial: the redelivered half is not counted again, the new half is', async () => {
    // Arrange
    const tenantId = fakeTenant();
    const events = Array.from({ length: 20 }, (_, i) => requestEvent(tenantId, at(i), { mutating: true }));
    // Act: the first 10, then a batch of 5 of those (redelivered) with the other 10.
    expect(await deliverUntilDone(handler, events.slice(0, 10))).toEqual([]);
    expect(await deliverUntilDone(handler, [...events.slice(5, 10), ...events.slice(10)])).toEqual([]);
    // Assert
    expect((await auditItemsOf(dynamo, info.tables.audit, tenantId)).length).toBe(20);
    expect(await apiCalls(tenantId, day)).toBe(20);
    expect(await usage.reconcileDay(tenantId, day)).toEqual([]);
    const [hour] = await metrics.hours(tenantId, at(0), at(0));
    expect(hour?.requests).toBe(20);
  });

  it('the same event in three concurrent batches and twice in one batch: counted once', async () => {
    // Arrange
    const tenantId = fakeTenant();
    const event = requestEvent(tenantId, at(1), { mutating: true });
    const others = Array.from({ length: 5 }, () => requestEvent(tenantId, at(2)));
    // Act
    const results = await Promise.all([
      deliverUntilDone(handler, [event, ...others]),
      deliverUntilDone(handler, [event, event]),
      deliverUntilDone(handler, [event]),
    ]);
    // Assert
    expect(results).toEqual([[], [], []]);
    expect((await auditItemsOf(dynamo, info.tables.audit, tenantId)).length).toBe(1);
    expect(await apiCalls(tenantId, day)).toBe(6);
  });
});

describe('failures inside a batch', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('fails only the poison messages; the rest of the batch is stored', async () => {
    // Arrange: two good requests, a body that is not JSON, a detail its schema refuses, an unknown type.
    const tenantId = fakeTenant();
    const good = [requestEvent(tenantId, at(3)), requestEvent(tenantId, at(4))];
    const refused = busEvent(RequestRecorded, { requestId: 'r', metric: { tenantId, statusCode: 'x' } });
    const unknown = busEvent({ source: 'tenantry.api', detailType: 'Something Else' }, {});
    const records = [
      ...good.map((event) => sqsRecordOf(event)),
      sqsRecordOf('{not json'),
      sqsRecordOf(refused),
      sqsRecordOf(unknown),
    ];
    // Act
    const failed = await failedIdsOf(handler, records);
    // Assert
    expect(failed.sort()).toEqual(
      records
        .slice(2)
        .map((record) => record.messageId)
        .sort(),
    );
    expect(await apiCalls(tenantId, day)).toBe(2);
  });

  it('a poison message ends in its queue’s dead-letter queue after maxReceiveCount receives; its batch is kept', async () => {
    // Arrange: a local queue that delivers to the records consumer, as the event source mapping does.
    const dir = await mkdtemp(path.join(tmpdir(), 'tenantry-poison-'));
    dirs.push(dir);
    const tenantId = fakeTenant();
    const queue = new LocalQueue({
      settings: {
        queueName: 'records',
        queueArn: 'arn:aws:sqs:us-east-1:000000000000:records',
        visibilityTimeoutSeconds: 174,
        maxReceiveCount: 3,
        batchSize: 10,
        batchingWindowSeconds: 1,
        reportBatchItemFailures: true,
      },
      clock: new ScaledClock(0.001),
      failedMessagesDir: dir,
      invoke: (event) => handler(event),
    });
    const poison = JSON.stringify(busEvent(RequestRecorded, { requestId: 'r', metric: {} }));
    // Act
    for (const event of [requestEvent(tenantId, at(5)), requestEvent(tenantId, at(6))]) {
      queue.send(JSON.stringify(event));
    }
    const poisonId = queue.send(poison);
    await queue.drained();
    // Assert
    const [letter, ...more] = (await readFile(path.join(dir, 'records.jsonl'), 'utf8')).trim().split('\n');
    expect(more).toEqual([]);
    expect(JSON.parse(letter ?? '')).toMatchObject({
      MessageId: poisonId,
      Body: poison,
      Attributes: {
        ApproximateReceiveCount: '3',
        DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:records',
      },
    });
    expect(await apiCalls(tenantId, day)).toBe(2);
  });

  it('a failed aggregate fails its events only; their redelivery adds what was missing, nothing twice', async () => {
    // Arrange: tenant A's api_calls rollup holds a quantity DynamoDB cannot ADD to (a string), so
    // A's usage aggregate fails while A's metrics and tenant B's records are added.
    const a = fakeTenant();
    const b = fakeTenant();
    const key = usageKeys.rollup(a, day, 'api_calls');
    await documents.send(
      new PutCommand({ TableName: info.tables.usage, Item: { ...key, quantity: 'broken' } }),
    );
    const events = [
      ...Array.from({ length: 3 }, (_, i) => requestEvent(a, at(10 + i))),
      ...Array.from({ length: 2 }, (_, i) => requestEvent(b, at(10 + i))),
    ];
    const records = events.map((event) => sqsRecordOf(event));
    // Act
    const failed = await failedIdsOf(handler, records);
    await documents.send(new DeleteCommand({ TableName: info.tables.usage, Key: key }));
    const retried = await failedIdsOf(
      handler,
      records
        .filter((record) => failed.includes(record.messageId))
        .map((record) => sqsRecordOf(record.body, 2, record.messageId)),
    );
    // Assert: A's three failed, then succeeded; A's metrics were added once, not again on the retry.
    expect(failed.sort()).toEqual(
      records
        .slice(0, 3)
        .map((record) => record.messageId)
        .sort(),
    );
    expect(retried).toEqual([]);
    expect(await apiCalls(a, day)).toBe(3);
    expect(await apiCalls(b, day)).toBe(2);
    const [hourA] = await metrics.hours(a, at(10), at(10));
    expect(hourA?.requests).toBe(3);
    expect(await usage.reconcileDay(a, day)).toEqual([]);
  });

  it('takes over the claim of a delivery that died before its aggregates, and counts the event once', async () => {
    // Arrange: the event's raw record claimed by a batch that never finished, its lease run out.
    const tenantId = fakeTenant();
    const event: BusEvent = requestEvent(tenantId, at(20));
    const detail = event.detail as { usage: { at: string; resourceType: string } };
    await documents.send(
      new PutCommand({
        TableName: info.tables.usage,
        Item: {
          ...usageKeys.raw(tenantId, detail.usage.at, detail.usage.resourceType, event.id),
          eventId: event.id,
          tenantId,
          resourceType: 'api_calls',
          quantity: 1,
          unit: 'calls',
          at: detail.usage.at,
          state: 'pending',
          leaseUntil: Date.now() - 1,
          batch: randomUUID(),
        },
      }),
    );
    // Act
    const first = await failedIdsOf(handler, [sqsRecordOf(event, 2)]);
    const again = await failedIdsOf(handler, [sqsRecordOf(event, 3)]);
    // Assert
    expect([first, again]).toEqual([[], []]);
    expect(await apiCalls(tenantId, day)).toBe(1);
    const [hour] = await metrics.hours(tenantId, at(20), at(20));
    expect(hour?.requests).toBe(1);
  });

  it('a claim whose lease is alive fails the duplicate, which SQS redelivers later', async () => {
    // Arrange: a live claim of another delivery.
    const tenantId = fakeTenant();
    const event: BusEvent = requestEvent(tenantId, at(30));
    const detail = event.detail as { usage: { at: string; resourceType: string } };
    const claim = usageKeys.raw(tenantId, detail.usage.at, detail.usage.resourceType, event.id);
    await documents.send(
      new PutCommand({
        TableName: info.tables.usage,
        Item: { ...claim, state: 'pending', leaseUntil: Date.now() + 60_000, batch: randomUUID() },
      }),
    );
    // Act
    const record = sqsRecordOf(event, 2);
    const failed = await failedIdsOf(handler, [record, sqsRecordOf(requestEvent(tenantId, at(31)))]);
    // Assert: only the duplicate failed; nothing of it was counted.
    expect(failed).toEqual([record.messageId]);
    expect(await apiCalls(tenantId, day)).toBe(1);
  });
});
