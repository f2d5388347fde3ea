import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LambdaInvokeHandle, startLambdaInvokeEndpoint } from '#infra/local/engines/lambda-invoke';

class TriggerRejected extends Error {
  override name = 'TriggerRejected';
}

describe('Lambda Invoke endpoint', () => {
  let handle: LambdaInvokeHandle;
  let client: LambdaClient;
  const seen: unknown[] = [];

  beforeAll(async () => {
    handle = await startLambdaInvokeEndpoint({
      port: 0,
      functions: {
        echo: async (event) => {
          seen.push(event);
          return { echoed: event };
        },
        fails: async () => {
          throw new TriggerRejected('no tenant for this user');
        },
      },
    });
    client = new LambdaClient({
      endpoint: handle.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await handle.stop();
  });

  const decode = (payload: Uint8Array | undefined): unknown =>
    JSON.parse(Buffer.from(payload ?? []).toString('utf8'));

  it('returns the function result with 200', async () => {
    const result = await client.send(
      new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(JSON.stringify({ a: 1 })) }),
    );
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBeUndefined();
    expect(decode(result.Payload)).toEqual({ echoed: { a: 1 } });
    expect(seen).toContainEqual({ a: 1 });
  });

  it('accepts a function ARN as the name', async () => {
    const result = await client.send(
      new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo',
        Payload: Buffer.from('{}'),
      }),
    );
    expect(decode(result.Payload)).toEqual({ echoed: {} });
  });

  it('reports a thrown error as an Unhandled function error, like Lambda', async () => {
    const result = await client.send(
      new InvokeCommand({ FunctionName: 'fails', Payload: Buffer.from('{}') }),
    );
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBe('Unhandled');
    expect(decode(result.Payload)).toMatchObject({
      errorType: 'TriggerRejected',
      errorMessage: 'no tenant for this user',
    });
  });

  it('serves a function added after the start, its Event invocations through its own async path', async () => {
    // Arrange
    const queued: unknown[] = [];
    const ran: unknown[] = [];
    handle.serve('late', {
      invoke: async (event) => {
        ran.push(event);
        return 'ran';
      },
      invokeAsync: async (event) => {
        queued.push(event);
      },
    });
    // Act
    const sync = await client.send(
      new InvokeCommand({ FunctionName: 'late', Payload: Buffer.from('{"n":1}') }),
    );
    const async = await client.send(
      new InvokeCommand({ FunctionName: 'late', InvocationType: 'Event', Payload: Buffer.from('{"n":2}') }),
    );
    // Assert: 202 for the Event invocation, which only the async path saw.
    expect(decode(sync.Payload)).toBe('ran');
    expect(async.StatusCode).toBe(202);
    expect(ran).toEqual([{ n: 1 }]);
    expect(queued).toEqual([{ n: 2 }]);
  });

  it('answers ResourceNotFoundException for an unknown function', async () => {
    await expect(
      client.send(new InvokeCommand({ FunctionName: 'missing', Payload: Buffer.from('{}') })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
