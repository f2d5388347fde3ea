import { createServer, type Server } from 'node:net';
import { EngineStartFailed, PortInUse } from './errors.ts';
import { keepIdleConnections } from './http-server.ts';

/** Every engine of the local platform listens on loopback only: nothing is reachable from the network. */
export const LOOPBACK = '127.0.0.1';

/** Asks the OS for a free loopback port. Another process may take it before we bind it again. */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('findFreePort: the OS returned no TCP address');
  }
  return address.port;
}

/**
 * Fails with `PortInUse` when something already listens on `port` on 127.0.0.1. Engines that are
 * child processes (postgres) die with an unhelpful log line on a busy port, so we check first.
 */
export async function assertPortFree(port: number, engineName: string): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: LOOPBACK, exclusive: true }, resolve);
    });
  } catch (error) {
    if (isAddressInUse(error)) throw new PortInUse(engineName, port, { cause: error });
    throw error;
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Resolves `port` (0 = any free port) to a concrete free port, or fails with `PortInUse`. */
export async function resolvePort(port: number, engineName: string): Promise<number> {
  if (port === 0) return findFreePort();
  await assertPortFree(port, engineName);
  return port;
}

export function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
}

/** True for addresses that only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Binds an already-created server to loopback (`host`, default 127.0.0.1; anything else is
 * refused), translating EADDRINUSE into `PortInUse`. Returns the port actually bound (useful
 * when `port` is 0).
 */
export async function listenOnLoopback(
  server: Server,
  port: number,
  engineName: string,
  host: string = LOOPBACK,
): Promise<number> {
  keepIdleConnections(server);
  if (!isLoopbackHost(host)) {
    throw new EngineStartFailed(
      engineName,
      `${host} is not a loopback address; engines listen on loopback only`,
    );
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  } catch (error) {
    if (isAddressInUse(error)) throw new PortInUse(engineName, port, { cause: error });
    throw error;
  }
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error(`${engineName}: server is not bound to a TCP port`);
  }
  return address.port;
}
