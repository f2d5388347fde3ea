import { Agent, createServer, request, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { IDLE_CONNECTION_MS, serverStop } from '#infra/local/engines/http-server';
import { LOOPBACK, listenOnLoopback } from '#infra/local/engines/ports';

/** A server whose requests get no answer until the test ends them: a busy keep-alive socket. */
async function serverWithHangingRequests(): Promise<{
  server: Server;
  port: number;
  pending: ServerResponse[];
}> {
  const pending: ServerResponse[] = [];
  const server = createServer((_request, response) => pending.push(response));
  const port = await listenOnLoopback(server, 0, 'test server');
  return { server, port, pending };
}

/** Sends one request and settles with how it ended: answered, or its socket was cut. */
function send(port: number): Promise<'answered' | 'cut'> {
  return new Promise((resolve) => {
    const outgoing = request({ host: LOOPBACK, port, agent: false });
    outgoing.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve('answered'));
    });
    outgoing.on('error', () => resolve('cut'));
    outgoing.end();
  });
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

describe('serverStop', () => {
  it('answers every call with the same close, so a second stop does not fail', async () => {
    const { server } = await serverWithHangingRequests();
    const stop = serverStop(server);
    const first = stop();
    expect(stop()).toBe(first);
    await first;
    await expect(stop()).resolves.toBeUndefined();
    expect(server.listening).toBe(false);
  });

  it('cuts a busy socket after the grace period rather than wait for it', async () => {
    const { server, port, pending } = await serverWithHangingRequests();
    servers.push(server);
    const outcome = send(port);
    await expect.poll(() => pending.length).toBe(1);
    const began = performance.now();
    await serverStop(server, { forceCloseAfterMs: 50 })();
    expect(performance.now() - began).toBeGreaterThanOrEqual(40);
    expect(await outcome).toBe('cut');
  });

  it('without a grace period, waits for a busy socket to finish', async () => {
    const { server, port, pending } = await serverWithHangingRequests();
    servers.push(server);
    const outcome = send(port);
    await expect.poll(() => pending.length).toBe(1);
    let stopped = false;
    const stop = serverStop(server)().then(() => {
      stopped = true;
    });
    await sleep(100);
    expect(stopped).toBe(false);
    pending[0]?.end('done');
    await stop;
    expect(await outcome).toBe('answered');
  });
});

describe('idle keep-alive connections of the stand-ins', () => {
  it('stay open past Node’s 5 s default, so an SDK client reusing one is not cut ("socket hang up")', async () => {
    // Arrange: a stand-in server and a keep-alive client, as the AWS SDK uses
    let connections = 0;
    const server = createServer((_request, response) => response.end('ok'));
    server.on('connection', () => {
      connections += 1;
    });
    const port = await listenOnLoopback(server, 0, 'test server');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const outgoing = request({ host: LOOPBACK, port, agent }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          response.on('end', () => resolve(body));
        });
        outgoing.on('error', reject);
        outgoing.end();
      });
    try {
      // Act: a request, 5.5 s idle, another
      expect(await get()).toBe('ok');
      await sleep(5_500);
      expect(await get()).toBe('ok');
      // Assert: the second request went over the same connection
      expect(server.keepAliveTimeout).toBe(IDLE_CONNECTION_MS);
      expect(connections).toBe(1);
    } finally {
      agent.destroy();
      await serverStop(server)();
    }
  }, 15_000);
});
