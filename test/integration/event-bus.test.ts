import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AsyncTarget,
  type FailedInvocationRecord,
  FunctionUnreachable,
} from '#infra/local/async-invoke';
import {
  type BusEvent,
  type DeadLetter,
  LocalEventBus,
  type LocalEventBusOptions,
  queueSettingsOf,
} from '#infra/local/event-bus';
import type { FailedMessage, QueueSettings } from '#infra/local/sqs-queue';
import { ASYNC_RETRY_ATTEMPTS, type QueueDelivery } from '#shared/events/delivery-policy';
import { catalog } from '#shared/events/events';
import type { EventSubscription } from '#shared/events/subscriptions';

/*
 * The local bus wires each rule as the CDK app does: the rule's target is its subscription's SQS
 * queue (the message body is the event), and the consumer reads the queue through a Lambda event
 * source mapping, in batches, with partial batch responses.
 * - Visibility timeout: a received message is invisible until it ends, then visible again with
 *   its ApproximateReceiveCount one higher unless deleted
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html).
 * - Batching: up to BatchSize messages, invoked when the batch is full or the batching window ends
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html).
 * - Errors: a function error makes the whole batch visible again; with ReportBatchItemFailures
 *   only the messages the answer names; a complete success is an empty or null batchItemFailures
 *   or an empty or null answer; a complete failure is an empty, null, wrongly keyed or unknown
 *   itemIdentifier (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
 * - Redrive: after maxReceiveCount receives the queue moves the message to its dead-letter queue.
 * - A rule whose target does not exist dead-letters the event with EventBridge's attributes
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
 * Lambda's asynchronous queue (retries, on-failure destination) remains for the scheduled jobs.
 */

const auditDetail = (action: string) =>
  JSON.stringify({
    tenantId: 't1',
    userId: 'u1',
    action,
    resource: '/tenants/t1',
    outcome: 'success',
    statusCode: 200,
    requestId: 'r1',
    at: new Date().toISOString(),
  });

const auditEntry = (action: string) => ({
  Source: 'tenantry.api',
  DetailType: 'Audit Record',
  Detail: auditDetail(action),
});

const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);

const eventIdOf = (result: unknown) => (result as { EventId: string }).EventId;
const eventOf = (record: SQSRecord) => JSON.parse(record.body) as BusEvent;
const actionOf = (record: SQSRecord) => (eventOf(record).detail as { action: string }).action;
const idsOf = (event: SQSEvent) => event.Records.map((record) => record.messageId);
const countsOf = (event: SQSEvent) =>
  event.Records.map((record) => record.attributes.ApproximateReceiveCount);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 174 s of AWS in 1.7 ms: the queues' waits, scaled, so that a test takes no time. */
const FAST = 0.00001;
/** One AWS second is a local millisecond: waits long enough to measure. */
const MEASURED = 0.001;

const subscriptionOf = (
  name: string,
  delivery: Partial<QueueDelivery> = {},
  detailTypes: readonly string[] = ['Audit Record'],
): EventSubscription => ({
  name,
  detailTypes,
  handler: `x/${name.toLowerCase()}`,
  needs: [],
  delivery: { batchSize: 10, batchingWindowSeconds: 0, maxReceiveCount: 3, ...delivery },
});

/** What the test consumer got: each invocation's SQS event, and when it came. */
interface Invocation {
  readonly event: SQSEvent;
  readonly at: number;
}

describe('local event bus: rules to queues, batches, partial batch responses, redrive, rule dead letters', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-bus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A bus with one subscription `name` on Audit Record, in a folder of its own, whose consumer
   * answers `consumer(event, n)` on its n-th invocation (or throws what it throws).
   */
  const busFor = async (
    name: string,
    options: {
      readonly consumer?: (event: SQSEvent, invocation: number) => unknown;
      readonly delivery?: Partial<QueueDelivery>;
      readonly queue?: Partial<QueueSettings>;
      readonly bus?: Partial<LocalEventBusOptions>;
    } = {},
  ) => {
    const home = path.join(dir, name);
    await mkdir(home);
    const subscription = subscriptionOf(name, options.delivery);
    const settings: QueueSettings = { ...queueSettingsOf(subscription), ...options.queue };
    const invocations: Invocation[] = [];
    const failedMessages: FailedMessage[] = [];
    const consumerErrors: unknown[] = [];
    const deadLetterFile = path.join(home, 'dead-letter.jsonl');
    const failedInvocationsDir = path.join(home, 'failed-invocations');
    const bus = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [subscription],
      deadLetterFile,
      failedInvocationsDir,
      timeScale: FAST,
      queueSettings: () => settings,
      deliver: async (_subscription, event) => {
        invocations.push({ event, at: performance.now() });
        return options.consumer?.(event, invocations.length);
      },
      onFailedMessage: (_subscription, message) => failedMessages.push(message),
      onConsumerError: (_subscription, error) => consumerErrors.push(error),
      ...options.bus,
    });
    const failedMessagesDir = path.join(home, 'failed-messages');
    return {
      bus,
      settings,
      invocations,
      failedMessages,
      consumerErrors,
      deadLetterFile,
      failedInvocationsDir,
      failedMessagesDir,
      failedMessagesFile: path.join(failedMessagesDir, `${settings.queueName}.jsonl`),
    };
  };

  /** Every file the bus may write, absent. */
  const expectNoFailureFiles = async (files: { deadLetterFile: string; failedMessagesDir: string }) => {
    await expect(stat(files.deadLetterFile)).rejects.toThrow();
    await expect(stat(files.failedMessagesDir)).rejects.toThrow();
  };

  it("sends an event to the queue of every matching subscription and of no other, named as the bus's default", async () => {
    // Arrange
    const delivered: Array<[string, SQSEvent]> = [];
    const bus = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [
        subscriptionOf('Audit'),
        subscriptionOf('Usage', {}, ['Usage Recorded']),
        subscriptionOf('Both', {}, ['Metric Sample', 'Audit Record']),
      ],
      deadLetterFile: path.join(dir, 'unused.jsonl'),
      failedInvocationsDir: path.join(dir, 'unused'),
      timeScale: FAST,
      deliver: async (subscription, event) => {
        delivered.push([subscription.name, event]);
      },
    });
    // Act
    const [result] = bus.putEvents([auditEntry('a')]);
    await bus.drain();
    // Assert
    expect(delivered.map(([name]) => name).sort()).toEqual(['Audit', 'Both']);
    for (const [name, event] of delivered) {
      expect(event.Records).toHaveLength(1);
      expect(event.Records[0]?.eventSourceARN).toBe(
        `arn:aws:sqs:us-east-1:000000000000:tenantry-local-${name}-queue`,
      );
      expect(eventOf(event.Records[0] as SQSRecord).id).toBe(eventIdOf(result));
    }
    expect(bus.queue('Audit')?.size).toBe(0);
    expect(bus.queue('Usage')).toBeUndefined();
    await expect(stat(path.join(dir, 'unused.jsonl'))).rejects.toThrow();
    await expect(stat(path.join(dir, 'failed-messages'))).rejects.toThrow();
  });

  it('hands the consumer an SQS event: the body is the EventBridge event, with the SQS record attributes', async () => {
    // Arrange
    const before = Date.now();
    const files = await busFor('Shape');
    // Act
    const [result] = files.bus.putEvents([auditEntry('shape')]);
    await files.bus.drain();
    // Assert
    expect(files.invocations).toHaveLength(1);
    const [record, ...more] = files.invocations[0]?.event.Records ?? [];
    expect(more).toEqual([]);
    if (!record) throw new Error('no record');
    expect(record).toEqual({
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      receiptHandle: expect.any(String),
      body: expect.any(String),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(record.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:tenantry-local-Shape-queue',
      awsRegion: 'us-east-1',
    });
    expect(record.receiptHandle.length).toBeGreaterThan(0);
    const sent = Number(record.attributes.SentTimestamp);
    expect(sent).toBeGreaterThanOrEqual(before);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(sent);
    // The body is the event as EventBridge delivers it to a target.
    expect(eventOf(record)).toEqual({
      version: '0',
      id: eventIdOf(result),
      'detail-type': 'Audit Record',
      source: 'tenantry.api',
      account: '000000000000',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'local',
      resources: [],
      detail: expect.objectContaining({ action: 'shape', tenantId: 't1' }),
    });
    await expectNoFailureFiles(files);
  });

  it('invokes with up to batchSize messages, and with fewer once the batching window ends', async () => {
    // Arrange: batches of 3, a window of 100 s (100 ms here).
    const files = await busFor('Batches', {
      delivery: { batchSize: 3, batchingWindowSeconds: 100 },
      bus: { timeScale: MEASURED },
    });
    // Act
    const began = performance.now();
    files.bus.putEvents(Array.from({ length: 7 }, (_, index) => auditEntry(`b${index}`)));
    await files.bus.drain();
    // Assert: two full batches at once, the last one after the window.
    const [first, second, third, ...more] = files.invocations;
    expect(more).toEqual([]);
    expect([first, second, third].map((invocation) => invocation?.event.Records.length)).toEqual([3, 3, 1]);
    expect((second?.at ?? 0) - began).toBeLessThan(60);
    expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(99);
    const actions = files.invocations.flatMap((invocation) => invocation.event.Records.map(actionOf));
    expect(actions.sort()).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
  });

  it('invokes as soon as the batch is full, without waiting for the rest of the window', async () => {
    // Arrange: batches of 2, a window of 300 s (300 ms here).
    const files = await busFor('Full', {
      delivery: { batchSize: 2, batchingWindowSeconds: 300 },
      bus: { timeScale: MEASURED },
    });
    // Act: one message, the second 20 ms later.
    const began = performance.now();
    files.bus.putEvents([auditEntry('f1')]);
    await sleep(20);
    files.bus.putEvents([auditEntry('f2')]);
    await files.bus.drain();
    // Assert
    expect(files.invocations.map((invocation) => invocation.event.Records.map(actionOf))).toEqual([
      ['f1', 'f2'],
    ]);
    expect((files.invocations[0]?.at ?? 0) - began).toBeLessThan(150);
  });

  it('redelivers the whole batch when the consumer fails, after the visibility timeout, with ApproximateReceiveCount 2', async () => {
    // Arrange: a visibility timeout of 50 s (50 ms here); the first invocation fails.
    const failure = new TypeError('consumer is broken');
    const files = await busFor('Redelivered', {
      queue: { visibilityTimeoutSeconds: 50 },
      bus: { timeScale: MEASURED },
      consumer: (_event, invocation) => {
        if (invocation === 1) throw failure;
      },
    });
    // Act
    files.bus.putEvents([auditEntry('r1'), auditEntry('r2')]);
    await files.bus.drain();
    // Assert
    const [first, second, ...more] = files.invocations;
    expect(more).toEqual([]);
    if (!first || !second) throw new Error('two invocations expected');
    expect(idsOf(second.event).sort()).toEqual(idsOf(first.event).sort());
    expect(countsOf(first.event)).toEqual(['1', '1']);
    expect(countsOf(second.event)).toEqual(['2', '2']);
    expect(second.at - first.at).toBeGreaterThanOrEqual(49);
    for (const record of second.event.Records) {
      const earlier = first.event.Records.find((candidate) => candidate.messageId === record.messageId);
      // A new receive: a new receipt handle; the message's own attributes stay.
      expect(record.receiptHandle).not.toBe(earlier?.receiptHandle);
      expect(record.attributes.SentTimestamp).toBe(earlier?.attributes.SentTimestamp);
      expect(record.attributes.ApproximateFirstReceiveTimestamp).toBe(
        earlier?.attributes.ApproximateFirstReceiveTimestamp,
      );
      expect(record.body).toBe(earlier?.body);
    }
    expect(files.consumerErrors).toEqual([failure]);
    expect(files.bus.queue('Redelivered')?.size).toBe(0);
    await expectNoFailureFiles(files);
  });

  it('polls a message sent while others are in flight at once, not after their visibility timeout', async () => {
    // Arrange: a visibility timeout of 300 s (300 ms here); the first invocation fails and a new
    // event is published meanwhile.
    const files = await busFor('Busy', {
      queue: { visibilityTimeoutSeconds: 300 },
      bus: { timeScale: MEASURED },
      consumer: (_event, invocation) => {
        if (invocation === 1) {
          setTimeout(() => files.bus.putEvents([auditEntry('later')]), 10);
          throw new Error('first batch fails');
        }
      },
    });
    // Act
    files.bus.putEvents([auditEntry('first')]);
    await files.bus.drain();
    // Assert: the new message long before the failed one comes back.
    const [first, second, third, ...more] = files.invocations;
    expect(more).toEqual([]);
    expect([first, second, third].map((invocation) => invocation?.event.Records.map(actionOf))).toEqual([
      ['first'],
      ['later'],
      ['first'],
    ]);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeLessThan(150);
    expect((third?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(299);
    expect(countsOf(third?.event ?? { Records: [] })).toEqual(['2']);
  });

  it('redelivers only the messages a partial batch response names, and deletes the rest', async () => {
    // Arrange: the first answer names the second message of three.
    let named = '';
    const files = await busFor('Partial', {
      consumer: (event, invocation) => {
        if (invocation > 1) return { batchItemFailures: [] };
        named = event.Records.find((record) => actionOf(record) === 'p2')?.messageId ?? '';
        return { batchItemFailures: [{ itemIdentifier: named }] };
      },
    });
    // Act
    files.bus.putEvents([auditEntry('p1'), auditEntry('p2'), auditEntry('p3')]);
    await files.bus.drain();
    // Assert
    const [first, second, ...more] = files.invocations;
    expect(more).toEqual([]);
    expect(first?.event.Records.map(actionOf).sort()).toEqual(['p1', 'p2', 'p3']);
    expect(second?.event.Records.map(actionOf)).toEqual(['p2']);
    expect(idsOf(second?.event ?? { Records: [] })).toEqual([named]);
    expect(countsOf(second?.event ?? { Records: [] })).toEqual(['2']);
    await expectNoFailureFiles(files);
  });

  it.each<[string, (event: SQSEvent) => unknown]>([
    [
      'an itemIdentifier that is no message of the batch',
      () => ({ batchItemFailures: [{ itemIdentifier: 'nope' }] }),
    ],
    [
      'a known itemIdentifier beside an unknown one',
      (event) => ({ batchItemFailures: [{ itemIdentifier: idsOf(event)[0] }, { itemIdentifier: 'nope' }] }),
    ],
    ['an empty itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: '' }] })],
    ['a null itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: null }] })],
    [
      'an itemIdentifier under another key name',
      (event) => ({ batchItemFailures: [{ messageId: idsOf(event)[0] }] }),
    ],
    ['a null item', () => ({ batchItemFailures: [null] })],
    ['batchItemFailures that is a string', () => ({ batchItemFailures: 'all of them' })],
    [
      'batchItemFailures that is an object',
      (event) => ({ batchItemFailures: { itemIdentifier: idsOf(event)[0] } }),
    ],
  ])('retries the whole batch for a malformed answer, as Lambda does: %s', async (_case, answer) => {
    // Arrange
    const name = `Malformed${_case.replace(/[^a-z]/gi, '').slice(0, 40)}`;
    const files = await busFor(name, {
      consumer: (event, invocation) => (invocation === 1 ? answer(event) : undefined),
    });
    // Act
    files.bus.putEvents([auditEntry('m1'), auditEntry('m2')]);
    await files.bus.drain();
    // Assert
    const [first, second, ...more] = files.invocations;
    expect(more).toEqual([]);
    expect(idsOf(second?.event ?? { Records: [] }).sort()).toEqual(
      idsOf(first?.event ?? { Records: [] }).sort(),
    );
    expect(countsOf(second?.event ?? { Records: [] })).toEqual(['2', '2']);
    await expectNoFailureFiles(files);
  });

  it.each<[string, unknown]>([
    ['no answer', undefined],
    ['a null answer', null],
    ['an empty answer', {}],
    ['an empty batchItemFailures', { batchItemFailures: [] }],
    ['a null batchItemFailures', { batchItemFailures: null }],
  ])('deletes the whole batch for a complete success: %s', async (_case, answer) => {
    // Arrange
    const name = `Success${_case.replace(/[^a-z]/gi, '')}`;
    const files = await busFor(name, { consumer: () => answer });
    // Act
    files.bus.putEvents([auditEntry('s1'), auditEntry('s2')]);
    await files.bus.drain();
    // Assert
    expect(files.invocations.map((invocation) => invocation.event.Records.length)).toEqual([2]);
    expect(files.bus.queue(name)?.size).toBe(0);
    await expectNoFailureFiles(files);
  });

  it('ignores the answer of a consumer whose mapping has no ReportBatchItemFailures: its success deletes the batch', async () => {
    const files = await busFor('NoReports', {
      queue: { reportBatchItemFailures: false },
      consumer: (event) => ({ batchItemFailures: [{ itemIdentifier: idsOf(event)[0] }] }),
    });
    files.bus.putEvents([auditEntry('n1'), auditEntry('n2')]);
    await files.bus.drain();
    expect(files.invocations).toHaveLength(1);
    expect(files.bus.queue('NoReports')?.size).toBe(0);
  });

  it('moves a message failed maxReceiveCount times to the failed-messages file with its attributes, and keeps the rest of its batch', async () => {
    // Arrange: receive count 3; the consumer fails on the poison message every time.
    const files = await busFor('Poison', {
      delivery: { maxReceiveCount: 3 },
      consumer: (event) => ({
        batchItemFailures: event.Records.filter((record) => actionOf(record) === 'poison').map((record) => ({
          itemIdentifier: record.messageId,
        })),
      }),
    });
    // Act
    const [poison] = files.bus.putEvents([auditEntry('poison'), auditEntry('good')]);
    await files.bus.drain();
    // Assert: the good message once, the poison one three times, with counts 1, 2, 3.
    expect(files.invocations.map((invocation) => invocation.event.Records.map(actionOf).sort())).toEqual([
      ['good', 'poison'],
      ['poison'],
      ['poison'],
    ]);
    expect(files.invocations.slice(1).flatMap((invocation) => countsOf(invocation.event))).toEqual([
      '2',
      '3',
    ]);
    const poisonRecord = files.invocations[0]?.event.Records.find((record) => actionOf(record) === 'poison');
    const moved = (await lines(files.failedMessagesFile)) as FailedMessage[];
    expect(moved).toEqual([
      {
        MessageId: poisonRecord?.messageId,
        Body: poisonRecord?.body,
        Attributes: {
          SentTimestamp: poisonRecord?.attributes.SentTimestamp,
          ApproximateReceiveCount: '3',
          DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:tenantry-local-Poison-queue',
        },
      },
    ]);
    // The body is the event itself: what a redrive sends back.
    expect(JSON.parse(moved[0]?.Body ?? '{}')).toMatchObject({
      id: eventIdOf(poison),
      'detail-type': 'Audit Record',
    });
    expect(files.failedMessages).toEqual(moved);
    expect((await stat(files.failedMessagesFile)).mode & 0o777).toBe(0o600);
    expect((await stat(files.failedMessagesDir)).mode & 0o777).toBe(0o700);
    expect(files.bus.queue('Poison')?.size).toBe(0);
    await expect(stat(files.deadLetterFile)).rejects.toThrow();
  });

  it('moves every message of a batch the consumer keeps failing on, after maxReceiveCount receives, to the failed-messages folder it is given', async () => {
    // Arrange
    const elsewhere = path.join(dir, 'elsewhere');
    const files = await busFor('Broken', {
      delivery: { maxReceiveCount: 2 },
      bus: { failedMessagesDir: elsewhere },
      consumer: () => {
        throw new Error('broken');
      },
    });
    // Act
    files.bus.putEvents([auditEntry('x1'), auditEntry('x2')]);
    await files.bus.drain();
    // Assert
    expect(files.invocations.map((invocation) => countsOf(invocation.event))).toEqual([
      ['1', '1'],
      ['2', '2'],
    ]);
    const moved = (await lines(path.join(elsewhere, 'tenantry-local-Broken-queue.jsonl'))) as FailedMessage[];
    expect(moved.map((message) => message.MessageId).sort()).toEqual(
      idsOf(files.invocations[0]?.event ?? { Records: [] }).sort(),
    );
    expect(moved.map((message) => message.Attributes.ApproximateReceiveCount)).toEqual(['2', '2']);
    expect(files.consumerErrors).toHaveLength(2);
    await expectNoFailureFiles(files);
  });

  it('puts an event whose rule has no queue in the rule dead-letter file at once, with the EventBridge attributes, 0600', async () => {
    // Arrange: the templates have no queue for the subscription.
    const letters: Array<[DeadLetter, BusEvent]> = [];
    const files = await busFor('Gone', {
      bus: { queueSettings: () => undefined, onDeadLetter: (letter, event) => letters.push([letter, event]) },
    });
    // Act
    const [result] = files.bus.putEvents([auditEntry('g')]);
    await files.bus.drain();
    // Assert
    expect(files.invocations).toEqual([]);
    const [letter, ...more] = (await lines(files.deadLetterFile)) as DeadLetter[];
    expect(more).toEqual([]);
    expect(letter?.MessageAttributes).toEqual({
      RULE_ARN: { DataType: 'String', StringValue: 'arn:aws:events:us-east-1:000000000000:rule/test/Gone' },
      TARGET_ARN: {
        DataType: 'String',
        StringValue: 'arn:aws:sqs:us-east-1:000000000000:tenantry-local-Gone-queue',
      },
      ERROR_CODE: { DataType: 'String', StringValue: 'NO_RESOURCE' },
      ERROR_MESSAGE: { DataType: 'String', StringValue: 'The target queue does not exist' },
    });
    expect(letter?.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(letter?.Attributes.SentTimestamp)).toBeGreaterThan(0);
    // The body is the event, whole: a redrive publishes it again.
    const event = JSON.parse(letter?.Body ?? '{}') as BusEvent;
    expect(event.id).toBe(eventIdOf(result));
    expect(event.detail).toMatchObject({ action: 'g' });
    expect(letters).toEqual([[letter, event]]);
    expect((await stat(files.deadLetterFile)).mode & 0o777).toBe(0o600);
    expect(files.bus.queue('Gone')).toBeUndefined();
    await expect(stat(files.failedMessagesDir)).rejects.toThrow();
  });

  it('refuses entries for another bus, outside the catalog, or with a bad detail, and takes a bus ARN', () => {
    const bus = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [],
      deadLetterFile: path.join(dir, 'never.jsonl'),
      failedInvocationsDir: path.join(dir, 'never'),
      deliver: async () => {},
    });

    const results = bus.putEvents([
      { EventBusName: 'other', Source: 'tenantry.api', DetailType: 'Audit Record', Detail: auditDetail('d') },
      { Source: 'tenantry.api', DetailType: 'Unknown', Detail: '{}' },
      { Source: 'tenantry.usage', DetailType: 'Audit Record', Detail: auditDetail('d') },
      { Source: 'tenantry.api', DetailType: 'Audit Record', Detail: 'not json' },
      { Source: 'tenantry.api', DetailType: 'Audit Record', Detail: '{"tenantId":1}' },
      {
        EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/test',
        Source: 'tenantry.api',
        DetailType: 'Audit Record',
        Detail: auditDetail('d'),
      },
    ]);

    expect(results.map((r) => ('ErrorCode' in r ? r.ErrorCode : 'ok'))).toEqual([
      'ResourceNotFoundException',
      'InvalidArgument',
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'ok',
    ]);
    expect(results[0]).toEqual({
      ErrorCode: 'ResourceNotFoundException',
      ErrorMessage: 'Event bus other does not exist',
    });
  });

  it('drain() resolves at once on an idle bus, and otherwise once redeliveries and the events they publish are done', async () => {
    // Arrange: the first invocation publishes a follow-up event and fails; its batch comes back after 100 ms.
    const idle = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [subscriptionOf('Idle')],
      deadLetterFile: path.join(dir, 'idle.jsonl'),
      failedInvocationsDir: path.join(dir, 'idle'),
      deliver: async () => {},
    });
    const files = await busFor('Drained', {
      queue: { visibilityTimeoutSeconds: 100 },
      bus: { timeScale: MEASURED },
      consumer: (_event, invocation) => {
        if (invocation === 1) {
          files.bus.putEvents([auditEntry('follow-up')]);
          throw new Error('once');
        }
      },
    });
    // Act
    const idleBegan = performance.now();
    await idle.drain();
    const idleTook = performance.now() - idleBegan;
    const began = performance.now();
    files.bus.putEvents([auditEntry('d1')]);
    await files.bus.drain();
    const took = performance.now() - began;
    // Assert
    expect(idleTook).toBeLessThan(50);
    expect(took).toBeGreaterThanOrEqual(99);
    expect(files.invocations.map((invocation) => invocation.event.Records.map(actionOf))).toEqual([
      ['d1'],
      ['follow-up'],
      ['d1'],
    ]);
    expect(files.bus.queue('Drained')?.size).toBe(0);
  });

  it.each([
    [0.001, 500, 800],
    [0.0001, 50, 300],
  ])(
    'scales the visibility timeout by the time scale: at %s, 500 s is %s ms',
    async (timeScale, low, high) => {
      // Arrange
      const files = await busFor(`Scaled${String(timeScale).replace('.', '')}`, {
        queue: { visibilityTimeoutSeconds: 500 },
        bus: { timeScale },
        consumer: (_event, invocation) => {
          if (invocation === 1) throw new Error('once');
        },
      });
      // Act
      files.bus.putEvents([auditEntry('t')]);
      await files.bus.drain();
      // Assert
      const [first, second] = files.invocations;
      const gap = (second?.at ?? 0) - (first?.at ?? 0);
      expect(gap).toBeGreaterThanOrEqual(low - 1);
      expect(gap).toBeLessThan(high);
    },
  );

  it('hurry() ends the visibility timeouts and batching windows of a stopping platform: the receives still happen, at once', async () => {
    // Arrange: AWS's own waits (a 174 s visibility timeout, a 300 s window); the consumer always fails.
    const files = await busFor('Stopping', {
      delivery: { batchSize: 100, batchingWindowSeconds: 300, maxReceiveCount: 3 },
      bus: { timeScale: 1 },
      consumer: () => {
        throw new Error('broken');
      },
    });
    files.bus.putEvents([auditEntry('s')]);
    // Act
    files.bus.hurry();
    const began = performance.now();
    await files.bus.drain();
    // Assert
    expect(performance.now() - began).toBeLessThan(5_000);
    expect(files.invocations.flatMap((invocation) => countsOf(invocation.event))).toEqual(['1', '2', '3']);
    expect(await lines(files.failedMessagesFile)).toHaveLength(1);
  });

  it('hurry() holds for a queue made after it too', async () => {
    const files = await busFor('Late', {
      delivery: { batchSize: 100, batchingWindowSeconds: 300, maxReceiveCount: 2 },
      bus: { timeScale: 1 },
      consumer: () => {
        throw new Error('broken');
      },
    });
    files.bus.hurry();
    const began = performance.now();
    files.bus.putEvents([auditEntry('l')]);
    await files.bus.drain();
    expect(performance.now() - began).toBeLessThan(5_000);
    expect(files.invocations).toHaveLength(2);
  });
});

describe("Lambda's asynchronous queue of the scheduled jobs (bus.lambda)", () => {
  /*
   * A job is invoked asynchronously (EventBridge Scheduler): a function error is Lambda's to retry
   * (1 + MaximumRetryAttempts attempts, 1 and 2 minutes apart) and then to record in the function's
   * on-failure destination (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html,
   * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
   */
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-bus-jobs-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A bus without subscriptions and a job-like function on its Lambda queue. */
  const jobFor = (
    name: string,
    run: AsyncTarget['run'],
    options: { readonly timeScale?: number; readonly config?: AsyncTarget['config'] } = {},
  ) => {
    const failedInvocationsDir = path.join(dir, name);
    const records: FailedInvocationRecord[] = [];
    const bus = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [],
      deadLetterFile: path.join(dir, `${name}-dead-letter.jsonl`),
      failedInvocationsDir,
      deliver: async () => {
        throw new Error('no consumer here');
      },
      onFailedInvocation: (record) => records.push(record),
      timeScale: options.timeScale ?? FAST,
    });
    const functionName = `tenantry-local-jobs-${name.toLowerCase()}`;
    const target: AsyncTarget = {
      functionName,
      functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
      run,
      ...(options.config ? { config: options.config } : {}),
    };
    return {
      bus,
      target,
      records,
      failedInvocationsDir,
      failedFile: path.join(failedInvocationsDir, `${functionName}.jsonl`),
    };
  };

  it('retries a job that fails once, and a run that recovers leaves no record', async () => {
    // Arrange
    let calls = 0;
    const job = jobFor('Flaky', async () => {
      calls += 1;
      if (calls === 1) throw new Error('transient');
    });
    // Act: the invocation is accepted at once; drain() waits for the retry.
    await job.bus.lambda.invoke(job.target, { month: '2026-01' });
    expect(calls).toBe(1);
    await job.bus.drain();
    // Assert
    expect(calls).toBe(2);
    expect(job.records).toEqual([]);
    await expect(stat(job.failedInvocationsDir)).rejects.toThrow();
  });

  it("runs a job that keeps failing 1 + Lambda's retries times, then writes one on-failure record (0600)", async () => {
    // Arrange
    const payloads: unknown[] = [];
    const job = jobFor('Broken', async (payload) => {
      payloads.push(payload);
      throw new TypeError('job is broken');
    });
    const payload = { month: 'not-a-month' };
    // Act: the bus's drain() returns only once Lambda's retries are over.
    await job.bus.lambda.invoke(job.target, payload);
    await job.bus.drain();
    // Assert
    expect(ASYNC_RETRY_ATTEMPTS).toBe(2); // what the CDK app configures (test/infra/failed-invocations.test.ts)
    expect(payloads).toEqual([payload, payload, payload]);
    const records = (await lines(job.failedFile)) as FailedInvocationRecord[];
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:tenantry-local-jobs-broken:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: payload,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'TypeError', errorMessage: 'job is broken' },
    });
    expect(record?.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(record?.timestamp ?? ''))).toBe(false);
    expect(record?.responsePayload.trace[0]).toBe('TypeError: job is broken');
    expect(job.records).toEqual(records);
    expect((await stat(job.failedFile)).mode & 0o777).toBe(0o600);
  });

  it("waits Lambda's 1 and then 2 minutes between the attempts, scaled by the time scale", async () => {
    // Arrange: 1 minute is 60 ms.
    const at: number[] = [];
    const job = jobFor(
      'Timed',
      async () => {
        at.push(performance.now());
        throw new Error('still broken');
      },
      { timeScale: MEASURED },
    );
    // Act
    await job.bus.lambda.invoke(job.target, {});
    await job.bus.drain();
    // Assert
    expect(at).toHaveLength(3);
    const [first = 0, second = 0, third = 0] = at;
    expect(second - first).toBeGreaterThanOrEqual(59);
    expect(second - first).toBeLessThan(115);
    expect(third - second).toBeGreaterThanOrEqual(119);
  });

  it('sends an event that outlives the maximum event age before its retry as EventAgeExceeded', async () => {
    // Arrange: 60 s, the shortest age Lambda allows, is less than the first wait plus its run.
    let calls = 0;
    const job = jobFor(
      'Aged',
      async () => {
        calls += 1;
        await sleep(5);
        throw new Error('slow and broken');
      },
      { config: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 60 } },
    );
    // Act
    await job.bus.lambda.invoke(job.target, {});
    await job.bus.drain();
    // Assert
    expect(calls).toBe(1);
    const [record] = (await lines(job.failedFile)) as FailedInvocationRecord[];
    expect(record?.requestContext).toMatchObject({
      condition: 'EventAgeExceeded',
      approximateInvokeCount: 1,
    });
    expect(record?.responsePayload.errorMessage).toBe('slow and broken');
  });

  it('refuses an invocation Lambda cannot take (no such function) to its caller, with nothing queued or recorded', async () => {
    // Arrange
    let calls = 0;
    const unreachable = new FunctionUnreachable(
      'ResourceNotFoundException',
      'Function not found: tenantry-local-jobs-gone',
    );
    const job = jobFor('Gone', async () => {
      calls += 1;
      throw unreachable;
    });
    // Act
    const refusal = await job.bus.lambda.invoke(job.target, {}).catch((error: unknown) => error);
    await job.bus.drain();
    // Assert
    expect(refusal).toBe(unreachable);
    expect(calls).toBe(1);
    expect(job.bus.lambda.busy).toBe(false);
    await expect(stat(job.failedInvocationsDir)).rejects.toThrow();
  });

  it('hurry() ends the waits of a stopping platform: the retries still run and the record is still written', async () => {
    // Arrange: waits as long as in AWS (a minute, then two).
    let calls = 0;
    const job = jobFor(
      'Stopping',
      async () => {
        calls += 1;
        throw new Error('broken');
      },
      { timeScale: 1 },
    );
    await job.bus.lambda.invoke(job.target, {});
    // Act
    job.bus.hurry();
    const began = performance.now();
    await job.bus.drain();
    // Assert
    expect(performance.now() - began).toBeLessThan(5_000);
    expect(calls).toBe(3);
    expect(await lines(job.failedFile)).toHaveLength(1);
  });
});
