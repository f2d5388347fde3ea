import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FunctionUnreachable } from '#infra/local/async-invoke';
import { type ConsumerConfig, ConsumerFailed, ConsumerThread } from '#infra/local/consumers';
import { LocalEventBus, queueSettingsOf } from '#infra/local/event-bus';
import type { FailedMessage } from '#infra/local/sqs-queue';
import { catalog } from '#shared/events/events';
import type { EventSubscription } from '#shared/events/subscriptions';
import { auditItemsOf } from '../support/record-batches.ts';

/*
 * The records consumer (events/record-telemetry) on the local platform's consumer thread: an SQS
 * batch handler whose answer is Powertools' partial batch response, handed back by the thread as
 * Lambda hands it to the event source mapping. Its records go to the platform's DynamoDB with the
 * function's own credentials, so its role's grants are the ones used.
 */

const info = inject('platform');
const HANDLER = 'events/record-telemetry';

/** The records consumer's configuration on the test platform: its tables, its own key, the DynamoDB stand-in. */
const platformConfig: ConsumerConfig = (entry) => ({
  environment: { AUDIT_TABLE_NAME: info.tables.audit, USAGE_TABLE_NAME: info.tables.usage },
  clients: {
    region: info.region,
    credentials: {
      accessKeyId: info.functions[entry]?.accessKeyId ?? 'no-such-function',
      secretAccessKey: 'x',
    },
    endpoints: { dynamodb: info.endpoints.dynamodb },
  },
});

const at = () => new Date().toISOString();
const busEvent = (detailType: string, source: string, detail: unknown) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': detailType,
  source,
  account: '000000000000',
  time: at().replace(/\.\d{3}Z$/, 'Z'),
  region: 'local',
  resources: [],
  detail,
});
const requestDetail = (tenantId: string) => ({
  requestId: `req-${randomUUID()}`,
  audit: {
    tenantId,
    userId: 'u1',
    action: 'tenant.update',
    resource: `/tenants/${tenantId}`,
    outcome: 'success',
    statusCode: 200,
    requestId: 'r1',
    at: at(),
  },
  usage: { tenantId, resourceType: 'api_calls', quantity: 1, unit: 'count', at: at() },
  metric: { tenantId, operationId: 'patchTenant', statusCode: 200, latencyMs: 12, at: at() },
});
const suspendedDetail = (tenantId: string) => ({ tenantId, reason: 'r', byUserId: 'u', at: at() });
/** An event the records consumer does not take: its message fails every time. */
const notARecord = () => busEvent('Tenant Suspended', 'tenantry.tenants', suspendedDetail('t_x'));

const sqsRecord = (event: unknown): SQSRecord => ({
  messageId: randomUUID(),
  receiptHandle: randomUUID(),
  body: JSON.stringify(event),
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: String(Date.now()),
    SenderId: '000000000000',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:tenantry-test-records',
  awsRegion: 'us-east-1',
});
const batchOf = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

const dynamo = new DynamoDBClient({
  region: info.region,
  endpoint: info.endpoints.dynamodb,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const newTenantId = () => `t-thread-${randomUUID()}`;

const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);

afterAll(() => dynamo.destroy());

describe('the consumer thread of the local platform', () => {
  const thread = new ConsumerThread(platformConfig);
  afterAll(() => thread.stop());

  it("returns the records consumer's answer: a poison message named as a batch item failure, the rest of the batch recorded", async () => {
    // Arrange
    const tenantId = newTenantId();
    const good = sqsRecord(busEvent('Request Recorded', 'tenantry.api', requestDetail(tenantId)));
    const poison = sqsRecord(notARecord());
    // Act
    const answer = await thread.deliver(HANDLER, batchOf(good, poison));
    // Assert
    expect(answer).toEqual({
      batchItemFailures: [{ itemIdentifier: poison.messageId }],
    } satisfies SQSBatchResponse);
    const items = await auditItemsOf(dynamo, info.tables.audit, tenantId);
    expect(items).toHaveLength(1);
    expect(items[0]?.eventId?.S).toBe((JSON.parse(good.body) as { id: string }).id);
  });

  it('answers an empty list of failures for a batch it recorded whole', async () => {
    const tenantId = newTenantId();
    const answer = await thread.deliver(
      HANDLER,
      batchOf(sqsRecord(busEvent('Request Recorded', 'tenantry.api', requestDetail(tenantId)))),
    );
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(await auditItemsOf(dynamo, info.tables.audit, tenantId)).toHaveLength(1);
  });

  it("hands back the handler's error, by name, with its stack, when every message of the batch failed", async () => {
    // Powertools throws when no record succeeded, so that Lambda retries the batch as a whole.
    const failure = await thread
      .deliver(HANDLER, batchOf(sqsRecord(notARecord()), sqsRecord('not an event')))
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ConsumerFailed);
    expect(failure).toMatchObject({ name: 'FullBatchFailureError' });
    expect((failure as ConsumerFailed).trace[0]).toMatch(/^FullBatchFailureError/);
  });

  it('answers a handler module that does not exist as Lambda answers a missing function, not a hang', async () => {
    const failure = await thread
      .deliver('events/no-such-consumer', batchOf())
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(FunctionUnreachable);
    expect(failure).toMatchObject({ errorCode: 'ResourceNotFoundException', retryable: false });
    expect((failure as Error).message).toBe(
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:tenantry-local-events-no-such-consumer',
    );
  });

  it('fails an invocation whose thread is stopped under it as the service being gone, and starts a new thread next time', async () => {
    const own = new ConsumerThread(platformConfig);
    const pending = own.deliver(HANDLER, batchOf(sqsRecord(notARecord()))).catch((error: unknown) => error);
    await own.stop();

    const failure = await pending;
    const next = await own
      .deliver(HANDLER, batchOf(sqsRecord(notARecord())))
      .catch((error: unknown) => error);
    await own.stop();

    expect(failure).toBeInstanceOf(FunctionUnreachable);
    expect(failure).toMatchObject({ errorCode: 'ServiceException', retryable: true });
    expect(next).toBeInstanceOf(ConsumerFailed);
  });
});

describe('the local bus with the records consumer on the real thread', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-consumer-bus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A bus on a thread of its own whose one rule sends Request Recorded, and Tenant Suspended (which
   * the consumer refuses), to the records consumer; each message is received at most twice.
   */
  const busTo = (name: string, options: { stopUnderFirst?: boolean } = {}) => {
    const thread = new ConsumerThread(platformConfig);
    const invocations: SQSEvent[] = [];
    const consumerErrors: unknown[] = [];
    const subscription: EventSubscription = {
      name,
      detailTypes: ['Request Recorded', 'Tenant Suspended'],
      handler: HANDLER,
      needs: [],
      delivery: { batchSize: 10, batchingWindowSeconds: 0, maxReceiveCount: 2 },
    };
    const deadLetterFile = path.join(dir, `${name}-dead-letter.jsonl`);
    const failedMessagesDir = path.join(dir, `${name}-failed-messages`);
    const bus = new LocalEventBus({
      busName: 'tenantry-test',
      catalog,
      subscriptions: [subscription],
      deadLetterFile,
      failedInvocationsDir: path.join(dir, `${name}-failed-invocations`),
      failedMessagesDir,
      timeScale: 0.00001,
      deliver: (delivered, event) => {
        invocations.push(event);
        const answer = thread.deliver(delivered.handler, event);
        // The thread goes away with the first invocation in it (a crash, a restart).
        if (options.stopUnderFirst && invocations.length === 1) void thread.stop();
        return answer;
      },
      onConsumerError: (_subscription, error) => consumerErrors.push(error),
    });
    const failedMessagesFile = path.join(
      failedMessagesDir,
      `${queueSettingsOf(subscription).queueName}.jsonl`,
    );
    return { bus, thread, invocations, consumerErrors, deadLetterFile, failedMessagesFile };
  };

  it('keeps the rest of a batch, and moves its poison message to the failed-messages file after maxReceiveCount receives', async () => {
    // Arrange
    const tenantId = newTenantId();
    const { bus, thread, invocations, deadLetterFile, failedMessagesFile } = busTo('Poisoned');
    // Act: one request's records and an event the consumer refuses, in one batch.
    const [good, poison] = bus.putEvents([
      {
        Source: 'tenantry.api',
        DetailType: 'Request Recorded',
        Detail: JSON.stringify(requestDetail(tenantId)),
      },
      {
        Source: 'tenantry.tenants',
        DetailType: 'Tenant Suspended',
        Detail: JSON.stringify(suspendedDetail('t_x')),
      },
    ]);
    await bus.drain();
    await thread.stop();
    // Assert: the batch, then the poison message alone (every message of that batch failing).
    expect(invocations.map((event) => event.Records.length)).toEqual([2, 1]);
    expect(invocations[1]?.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
    const [moved, ...more] = (await lines(failedMessagesFile)) as FailedMessage[];
    expect(more).toEqual([]);
    expect(moved?.Attributes.ApproximateReceiveCount).toBe('2');
    expect(JSON.parse(moved?.Body ?? '{}')).toMatchObject({
      id: (poison as { EventId: string }).EventId,
      'detail-type': 'Tenant Suspended',
    });
    const items = await auditItemsOf(dynamo, info.tables.audit, tenantId);
    expect(items).toHaveLength(1);
    expect(items[0]?.eventId?.S).toBe((good as { EventId: string }).EventId);
    await expect(stat(deadLetterFile)).rejects.toThrow();
  });

  it('redelivers a batch whose thread went away during the invocation, after its visibility timeout, and records it once', async () => {
    // Arrange
    const tenantId = newTenantId();
    const { bus, thread, invocations, consumerErrors, deadLetterFile, failedMessagesFile } = busTo(
      'Interrupted',
      {
        stopUnderFirst: true,
      },
    );
    // Act
    const [result] = bus.putEvents([
      {
        Source: 'tenantry.api',
        DetailType: 'Request Recorded',
        Detail: JSON.stringify(requestDetail(tenantId)),
      },
    ]);
    await bus.drain();
    await thread.stop();
    // Assert: the failed invocation, then the same message on a new thread.
    expect(invocations).toHaveLength(2);
    expect(invocations[1]?.Records[0]?.messageId).toBe(invocations[0]?.Records[0]?.messageId);
    expect(invocations[1]?.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(consumerErrors).toHaveLength(1);
    expect(consumerErrors[0]).toBeInstanceOf(FunctionUnreachable);
    expect(consumerErrors[0]).toMatchObject({ errorCode: 'ServiceException' });
    const items = await auditItemsOf(dynamo, info.tables.audit, tenantId);
    expect(items).toHaveLength(1);
    expect(items[0]?.eventId?.S).toBe((result as { EventId: string }).EventId);
    await expect(stat(deadLetterFile)).rejects.toThrow();
    await expect(stat(failedMessagesFile)).rejects.toThrow();
  });
});
