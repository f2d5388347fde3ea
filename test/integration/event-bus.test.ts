import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusEvent, type DeadLetter, LocalEventBus } from '#infra/local/event-bus';
import { catalog } from '#shared/events/events';

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

describe('local event bus routing, retries and dead letters', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-bus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers to every matching subscription and to no other', async () => {
    const delivered: Array<[string, BusEvent]> = [];
    const bus = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [
        { name: 'Audit', detailTypes: ['Audit Record'], handler: 'x/audit' },
        { name: 'Usage', detailTypes: ['Usage Recorded'], handler: 'x/usage' },
      ],
      deadLetterFile: path.join(dir, 'unused.jsonl'),
      deliver: async (subscription, event) => {
        delivered.push([subscription.name, event]);
      },
    });

    const [result] = bus.putEvents([
      { Source: 'tenantry.api', DetailType: 'Audit Record', Detail: auditDetail('a') },
    ]);
    await bus.drain();

    expect(result).toHaveProperty('EventId');
    expect(delivered.map(([name]) => name)).toEqual(['Audit']);
    expect(delivered[0]?.[1]).toMatchObject({
      'detail-type': 'Audit Record',
      source: 'tenantry.api',
      version: '0',
    });
    await expect(stat(path.join(dir, 'unused.jsonl'))).rejects.toThrow();
  });

  it('retries a failing consumer, and a delivery that recovers is not dead-lettered', async () => {
    let calls = 0;
    const deadLetterFile = path.join(dir, 'recovers.jsonl');
    const bus = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [{ name: 'Flaky', detailTypes: ['Audit Record'], handler: 'x/flaky' }],
      deadLetterFile,
      retryDelayMs: () => 1,
      deliver: async () => {
        calls += 1;
        if (calls < 3) throw new Error('transient');
      },
    });

    bus.putEvents([{ Source: 'tenantry.api', DetailType: 'Audit Record', Detail: auditDetail('b') }]);
    await bus.drain();

    expect(calls).toBe(3);
    await expect(stat(deadLetterFile)).rejects.toThrow();
  });

  it('writes an event whose consumer keeps failing to the dead-letter file, whole, with mode 0600', async () => {
    let calls = 0;
    const deadLetterFile = path.join(dir, 'dlq.jsonl');
    const bus = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [{ name: 'Broken', detailTypes: ['Audit Record'], handler: 'x/broken' }],
      deadLetterFile,
      maxAttempts: 4,
      retryDelayMs: () => 1,
      deliver: async () => {
        calls += 1;
        throw new TypeError('consumer is broken');
      },
    });

    const [result] = bus.putEvents([
      { Source: 'tenantry.api', DetailType: 'Audit Record', Detail: auditDetail('c') },
    ]);
    await bus.drain();

    expect(calls).toBe(4);
    const lines = (await readFile(deadLetterFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    const letter = JSON.parse(lines[0] ?? '{}') as DeadLetter;
    expect(letter).toMatchObject({
      subscription: 'Broken',
      attempts: 4,
      error: 'TypeError: consumer is broken',
    });
    expect(letter.event.id).toBe((result as { EventId: string }).EventId);
    expect(JSON.parse(auditDetail('c'))).toMatchObject({
      action: (letter.event.detail as { action: string }).action,
    });
    expect((await stat(deadLetterFile)).mode & 0o777).toBe(0o600);
  });

  it('refuses entries for another bus, outside the catalog, or with a bad detail', () => {
    const bus = new LocalEventBus({
      busName: 'test',
      catalog,
      subscriptions: [],
      deadLetterFile: path.join(dir, 'never.jsonl'),
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
