import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FailedInvocationRecord, FunctionUnreachable } from '#infra/local/async-invoke';
import { ConsumerFailed, ConsumerThread } from '#infra/local/consumers';
import { type DeadLetter, LocalEventBus } from '#infra/local/event-bus';
import { catalog } from '#shared/events/events';

const notAnAuditRecord = {
  version: '0',
  id: 'e1',
  'detail-type': 'Not An Audit Record',
  source: 'tenantry.api',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'local',
  resources: [],
  detail: {},
};

const usageEntry = () => ({
  Source: 'tenantry.usage',
  DetailType: 'Usage Recorded',
  Detail: JSON.stringify({
    tenantId: 't1',
    resourceType: 'api_calls',
    quantity: 1,
    unit: 'count',
    at: new Date().toISOString(),
  }),
});

const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);

describe('the consumer thread of the local platform', () => {
  process.env.AUDIT_TABLE_NAME ??= 'tenantry-test-audit';
  const thread = new ConsumerThread();
  afterAll(() => thread.stop());

  it("runs a consumer handler on its own thread and hands back the handler's error, by name, with its stack", async () => {
    const failure = await thread
      .deliver('events/record-audit', notAnAuditRecord)
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ConsumerFailed);
    expect(failure).toMatchObject({ name: 'InvalidEventDetail' });
    expect((failure as ConsumerFailed).trace[0]).toMatch(/^InvalidEventDetail/);
  });

  it('answers a handler module that does not exist as Lambda answers a missing function, not a hang', async () => {
    const failure = await thread.deliver('events/no-such-consumer', {}).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(FunctionUnreachable);
    expect(failure).toMatchObject({ errorCode: 'ResourceNotFoundException', retryable: false });
    expect((failure as Error).message).toBe(
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:tenantry-local-events-no-such-consumer',
    );
  });

  it('fails an invocation whose thread is stopped under it as the service being gone, and starts a new thread next time', async () => {
    const own = new ConsumerThread();
    const pending = own.deliver('events/record-audit', notAnAuditRecord).catch((error: unknown) => error);
    await own.stop();

    const failure = await pending;
    const next = await own.deliver('events/record-audit', notAnAuditRecord).catch((error: unknown) => error);
    await own.stop();

    expect(failure).toBeInstanceOf(FunctionUnreachable);
    expect(failure).toMatchObject({ errorCode: 'ServiceException', retryable: true });
    expect(next).toBeInstanceOf(ConsumerFailed);
  });
});

describe('the local bus with consumers on the real thread', () => {
  process.env.AUDIT_TABLE_NAME ??= 'tenantry-test-audit';
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-consumer-bus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A bus on a thread of its own, whose one rule sends Usage Recorded to `handler`. */
  const busTo = (name: string, handler: string) => {
    const thread = new ConsumerThread();
    let deliveries = 0;
    const files = {
      deadLetterFile: path.join(dir, `${name}-dead-letter.jsonl`),
      failedInvocationsDir: path.join(dir, `${name}-failed`),
    };
    const bus = new LocalEventBus({
      busName: 'tenantry-test',
      catalog,
      subscriptions: [{ name, detailTypes: ['Usage Recorded'], handler, needs: [] }],
      ...files,
      timeScale: 0.00001,
      deliver: (subscription, event) => {
        deliveries += 1;
        return thread.deliver(subscription.handler, event);
      },
    });
    return { bus, thread, ...files, deliveries: () => deliveries };
  };

  it("ends a consumer that throws on every attempt in its function's failed-invocations file, after 3 attempts", async () => {
    // Arrange: the audit consumer refuses any other detail-type, so it fails on every attempt.
    const { bus, thread, deadLetterFile, failedInvocationsDir, deliveries } = busTo(
      'Misrouted',
      'events/record-audit',
    );
    // Act
    const [result] = bus.putEvents([usageEntry()]);
    await bus.drain();
    await thread.stop();
    // Assert
    expect(deliveries()).toBe(3);
    const file = path.join(failedInvocationsDir, 'tenantry-local-events-record-audit.jsonl');
    const [record, ...more] = (await lines(file)) as FailedInvocationRecord[];
    expect(more).toEqual([]);
    expect(record).toMatchObject({
      requestContext: {
        functionArn:
          'arn:aws:lambda:us-east-1:000000000000:function:tenantry-local-events-record-audit:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: { id: (result as { EventId: string }).EventId, 'detail-type': 'Usage Recorded' },
      responsePayload: { errorType: 'InvalidEventDetail' },
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await expect(stat(deadLetterFile)).rejects.toThrow();
  });

  it('dead-letters an event for a consumer that does not exist, once, with NO_RESOURCE, and records no function error', async () => {
    // Arrange
    const { bus, thread, deadLetterFile, failedInvocationsDir, deliveries } = busTo(
      'Missing',
      'events/no-such-consumer',
    );
    // Act
    bus.putEvents([usageEntry()]);
    await bus.drain();
    await thread.stop();
    // Assert
    expect(deliveries()).toBe(1);
    const [letter, ...more] = (await lines(deadLetterFile)) as DeadLetter[];
    expect(more).toEqual([]);
    expect(letter?.MessageAttributes.RULE_ARN.StringValue).toBe(
      'arn:aws:events:us-east-1:000000000000:rule/tenantry-test/Missing',
    );
    expect(letter?.MessageAttributes.TARGET_ARN.StringValue).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:tenantry-local-events-no-such-consumer',
    );
    expect(letter?.MessageAttributes.ERROR_CODE.StringValue).toBe('NO_RESOURCE');
    expect(JSON.parse(letter?.Body ?? '{}')).toMatchObject({ 'detail-type': 'Usage Recorded' });
    expect((await stat(deadLetterFile)).mode & 0o777).toBe(0o600);
    await expect(stat(failedInvocationsDir)).rejects.toThrow();
  });

  it('redelivers an event whose thread went away during the delivery, then leaves the function errors to Lambda', async () => {
    // Arrange: the thread is stopped under the first delivery.
    const { bus, thread, deadLetterFile, failedInvocationsDir, deliveries } = busTo(
      'Interrupted',
      'events/record-audit',
    );
    // Act
    bus.putEvents([usageEntry()]);
    await thread.stop();
    await bus.drain();
    await thread.stop();
    // Assert: one failed delivery, then three attempts by Lambda on a new thread.
    expect(deliveries()).toBe(4);
    await expect(stat(deadLetterFile)).rejects.toThrow();
    const [record] = (await lines(
      path.join(failedInvocationsDir, 'tenantry-local-events-record-audit.jsonl'),
    )) as FailedInvocationRecord[];
    expect(record?.requestContext.approximateInvokeCount).toBe(3);
  });
});
