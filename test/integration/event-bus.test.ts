import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FailedInvocationRecord, FunctionUnreachable } from '#infra/local/async-invoke';
import {
  type BusEvent,
  type DeadLetter,
  LocalEventBus,
  type LocalEventBusOptions,
} from '#infra/local/event-bus';
import { ASYNC_RETRY_ATTEMPTS } from '#shared/events/delivery-policy';
import { catalog } from '#shared/events/events';

/*
 * The local bus invokes consumers as EventBridge invokes a Lambda target, asynchronously: a
 * function error is Lambda's to retry (1 + MaximumRetryAttempts attempts, 1 and 2 minutes apart)
 * and then to record in the function's on-failure destination
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html); an event
 * that cannot be delivered goes to the rule's dead-letter queue with EventBridge's attributes
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
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

/** 60 s of AWS in 0.6 ms: Lambda's waits, scaled, so a test takes no time. */
const FAST = 0.00001;

describe('local event bus: routing, Lambda retries and on-failure records, rule dead letters', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-bus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A bus with one subscription `name` on Audit Record, its files in a folder of its own. */
  const busFor = (
    name: string,
    options: Partial<LocalEventBusOptions> & Pick<LocalEventBusOptions, 'deliver'>,
  ) => {
    const deadLetterFile = path.join(dir, `${name}-dead-letter.jsonl`);
    const failedInvocationsDir = path.join(dir, `${name}-failed`);
    const bus = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [{ name, detailTypes: ['Audit Record'], handler: `x/${name.toLowerCase()}`, needs: [] }],
      deadLetterFile,
      failedInvocationsDir,
      timeScale: FAST,
      ...options,
    });
    const failedFile = path.join(failedInvocationsDir, `tenantry-local-x-${name.toLowerCase()}.jsonl`);
    return { bus, deadLetterFile, failedInvocationsDir, failedFile };
  };

  it('delivers to every matching subscription and to no other', async () => {
    const delivered: Array<[string, BusEvent]> = [];
    const bus = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [
        { name: 'Audit', detailTypes: ['Audit Record'], handler: 'x/audit', needs: [] },
        { name: 'Usage', detailTypes: ['Usage Recorded'], handler: 'x/usage', needs: [] },
      ],
      deadLetterFile: path.join(dir, 'unused.jsonl'),
      failedInvocationsDir: path.join(dir, 'unused'),
      deliver: async (subscription, event) => {
        delivered.push([subscription.name, event]);
      },
    });

    const [result] = bus.putEvents([auditEntry('a')]);
    await bus.drain();

    expect(result).toHaveProperty('EventId');
    expect(delivered.map(([name]) => name)).toEqual(['Audit']);
    expect(delivered[0]?.[1]).toMatchObject({
      'detail-type': 'Audit Record',
      source: 'tenantry.api',
      version: '0',
    });
    await expect(stat(path.join(dir, 'unused.jsonl'))).rejects.toThrow();
    await expect(stat(path.join(dir, 'unused'))).rejects.toThrow();
  });

  it('retries a consumer that fails once, and a delivery that recovers leaves no record anywhere', async () => {
    // Arrange
    let calls = 0;
    const { bus, deadLetterFile, failedInvocationsDir } = busFor('Flaky', {
      deliver: async () => {
        calls += 1;
        if (calls === 1) throw new Error('transient');
      },
    });
    // Act
    bus.putEvents([auditEntry('b')]);
    await bus.drain();
    // Assert
    expect(calls).toBe(2);
    await expect(stat(deadLetterFile)).rejects.toThrow();
    await expect(stat(failedInvocationsDir)).rejects.toThrow();
  });

  it("runs a consumer that keeps failing 1 + Lambda's retries times, then writes one on-failure record (0600), not a dead letter", async () => {
    // Arrange
    const received: BusEvent[] = [];
    const { bus, deadLetterFile, failedFile } = busFor('Broken', {
      deliver: async (_subscription, event) => {
        received.push(event);
        throw new TypeError('consumer is broken');
      },
    });
    // Act: drain() returns only once Lambda's retries are over.
    const [result] = bus.putEvents([auditEntry('c')]);
    await bus.drain();
    // Assert
    expect(ASYNC_RETRY_ATTEMPTS).toBe(2); // what the CDK app configures (test/infra/failed-invocations.test.ts)
    expect(received).toHaveLength(1 + ASYNC_RETRY_ATTEMPTS);
    const records = (await lines(failedFile)) as FailedInvocationRecord[];
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:tenantry-local-x-broken:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'TypeError', errorMessage: 'consumer is broken' },
    });
    expect(record?.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(record?.timestamp ?? ''))).toBe(false);
    expect(record?.responsePayload.trace[0]).toBe('TypeError: consumer is broken');
    // The request payload is the event itself, with its id: what a redrive invokes the consumer with.
    expect(record?.requestPayload).toEqual(received[0]);
    expect((record?.requestPayload as BusEvent | undefined)?.id).toBe(
      (result as { EventId: string }).EventId,
    );
    expect((await stat(failedFile)).mode & 0o777).toBe(0o600);
    await expect(stat(deadLetterFile)).rejects.toThrow();
  });

  it("waits Lambda's 1 and then 2 minutes between the attempts, scaled by the time scale", async () => {
    // Arrange: 1 minute is 60 ms.
    const at: number[] = [];
    const { bus } = busFor('Timed', {
      timeScale: 0.001,
      deliver: async () => {
        at.push(performance.now());
        throw new Error('still broken');
      },
    });
    // Act
    bus.putEvents([auditEntry('t')]);
    await bus.drain();
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
    const { bus, failedFile } = busFor('Aged', {
      asyncInvokeConfig: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 60 },
      deliver: async () => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new Error('slow and broken');
      },
    });
    // Act
    bus.putEvents([auditEntry('e')]);
    await bus.drain();
    // Assert
    expect(calls).toBe(1);
    const [record] = (await lines(failedFile)) as FailedInvocationRecord[];
    expect(record?.requestContext).toMatchObject({
      condition: 'EventAgeExceeded',
      approximateInvokeCount: 1,
    });
    expect(record?.responsePayload.errorMessage).toBe('slow and broken');
  });

  it('puts an event whose function does not exist in the rule dead-letter file at once, with the EventBridge attributes, 0600', async () => {
    // Arrange
    let calls = 0;
    const { bus, deadLetterFile, failedInvocationsDir } = busFor('Gone', {
      deliver: async () => {
        calls += 1;
        throw new FunctionUnreachable(
          'ResourceNotFoundException',
          'Function not found: arn:…:tenantry-local-x-gone',
        );
      },
    });
    // Act
    const [result] = bus.putEvents([auditEntry('g')]);
    await bus.drain();
    // Assert: not retried (neither by EventBridge, which does not retry a missing target, nor by Lambda).
    expect(calls).toBe(1);
    const letters = (await lines(deadLetterFile)) as DeadLetter[];
    expect(letters).toHaveLength(1);
    const [letter] = letters;
    expect(letter?.MessageAttributes).toEqual({
      RULE_ARN: { DataType: 'String', StringValue: 'arn:aws:events:us-east-1:000000000000:rule/test/Gone' },
      TARGET_ARN: {
        DataType: 'String',
        StringValue: 'arn:aws:lambda:us-east-1:000000000000:function:tenantry-local-x-gone',
      },
      ERROR_CODE: { DataType: 'String', StringValue: 'NO_RESOURCE' },
      ERROR_MESSAGE: { DataType: 'String', StringValue: 'Function not found: arn:…:tenantry-local-x-gone' },
    });
    // The body is the event, whole: a redrive publishes or invokes with it.
    const event = JSON.parse(letter?.Body ?? '{}') as BusEvent;
    expect(event.id).toBe((result as { EventId: string }).EventId);
    expect(event.detail).toMatchObject({ action: 'g' });
    expect((await stat(deadLetterFile)).mode & 0o777).toBe(0o600);
    await expect(stat(failedInvocationsDir)).rejects.toThrow();
  });

  it("retries a delivery the Lambda service did not take per the target's retry policy, then dead-letters it", async () => {
    // Arrange
    let calls = 0;
    const { bus, deadLetterFile, failedInvocationsDir } = busFor('Unavailable', {
      targetRetryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 21_600 },
      deliver: async () => {
        calls += 1;
        throw new FunctionUnreachable('ServiceException', 'The consumer thread exited (1)');
      },
    });
    // Act
    bus.putEvents([auditEntry('u')]);
    await bus.drain();
    // Assert: 1 + 3 deliveries, none of them a function error.
    expect(calls).toBe(4);
    const [letter] = (await lines(deadLetterFile)) as DeadLetter[];
    expect(letter?.MessageAttributes.ERROR_CODE.StringValue).toBe('ERROR_FROM_TARGET');
    expect(letter?.MessageAttributes.ERROR_MESSAGE.StringValue).toBe('The consumer thread exited (1)');
    await expect(stat(failedInvocationsDir)).rejects.toThrow();
  });

  it('delivers once the Lambda service is back, and the function error that follows is Lambda’s, not the rule’s', async () => {
    // Arrange: the service is unavailable once, then the function runs and fails every time.
    const outcomes: string[] = [];
    const { bus, deadLetterFile, failedFile } = busFor('Recovers', {
      deliver: async () => {
        if (outcomes.length === 0) {
          outcomes.push('unreachable');
          throw new FunctionUnreachable('ServiceException', 'restarting');
        }
        outcomes.push('ran');
        throw new Error('function error');
      },
    });
    // Act
    bus.putEvents([auditEntry('r')]);
    await bus.drain();
    // Assert
    expect(outcomes).toEqual(['unreachable', 'ran', 'ran', 'ran']);
    await expect(stat(deadLetterFile)).rejects.toThrow();
    const [record] = (await lines(failedFile)) as FailedInvocationRecord[];
    expect(record?.requestContext.approximateInvokeCount).toBe(3);
  });

  it('hurry() ends the waits of a stopping platform: the retries still run and the record is still written', async () => {
    // Arrange: waits as long as in AWS (a minute, then two).
    let calls = 0;
    const { bus, failedFile } = busFor('Stopping', {
      timeScale: 1,
      deliver: async () => {
        calls += 1;
        throw new Error('broken');
      },
    });
    bus.putEvents([auditEntry('s')]);
    // Act
    bus.hurry();
    const began = performance.now();
    await bus.drain();
    // Assert
    expect(performance.now() - began).toBeLessThan(5_000);
    expect(calls).toBe(3);
    expect(await lines(failedFile)).toHaveLength(1);
  });

  it('refuses entries for another bus, outside the catalog, or with a bad detail', () => {
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
      { Source: 'tenantry.api', DetailType: 'Audit Record', Detail: 'not json' },
      { Source: 'tenantry.api', DetailType: 'Audit Record', Detail: '{"tenantId":1}' },
    ]);

    expect(results.map((r) => ('ErrorCode' in r ? r.ErrorCode : 'ok'))).toEqual([
      'ResourceNotFoundException',
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
    ]);
  });
});
