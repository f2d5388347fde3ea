import { afterAll, describe, expect, it } from 'vitest';
import { ConsumerFailed, ConsumerThread } from '#infra/local/consumers';

describe('the consumer thread of the local platform', () => {
  process.env.AUDIT_TABLE_NAME ??= 'tenantry-test-audit';
  const thread = new ConsumerThread();
  afterAll(() => thread.stop());

  it("runs a consumer handler on its own thread and hands back the handler's error, by name", async () => {
    const event = {
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

    const failure = await thread.deliver('events/record-audit', event).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ConsumerFailed);
    expect(failure).toMatchObject({ name: 'InvalidEventDetail' });
  });

  it('reports a handler that cannot be loaded as a failure, not a hang', async () => {
    const failure = await thread.deliver('events/no-such-consumer', {}).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ConsumerFailed);
    expect((failure as Error).message).toMatch(/no-such-consumer/);
  });
});
