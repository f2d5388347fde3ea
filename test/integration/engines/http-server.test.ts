import { createServer, request, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { serverStop } from '#infra/local/engines/http-server';
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
