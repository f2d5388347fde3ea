import { Server as HttpServer, type Server } from 'node:http';
import type { Server as NetServer } from 'node:net';

export interface ServerStopOptions {
  /**
   * Node's close() drops idle keep-alive sockets but waits for busy ones; SDK clients keep
   * sockets open, so an engine they talk to cuts the rest after this grace period rather than
   * hang a shutdown. Without it, a stop waits for every busy socket to finish.
   */
  readonly forceCloseAfterMs?: number;
}

/**
 * The stop of an engine's HTTP server. Every call answers with the same close, so the platform's
 * shutdown and a test's cleanup can both stop an engine without the second one failing.
 */
export function serverStop(server: Server, options: ServerStopOptions = {}): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return (): Promise<void> => {
    stopped ??= new Promise<void>((resolve, reject) => {
      const { forceCloseAfterMs } = options;
      const force =
        forceCloseAfterMs === undefined
          ? undefined
          : setTimeout(() => server.closeAllConnections(), forceCloseAfterMs);
      server.close((error) => {
        clearTimeout(force);
        if (error) reject(error);
        else resolve();
      });
      server.closeIdleConnections();
    });
    return stopped;
  };
}

/** How long a stand-in keeps an idle client connection open. */
export const IDLE_CONNECTION_MS = 10 * 60_000;

/**
 * Keeps idle keep-alive connections open for minutes, as AWS endpoints do, instead of Node's 5 s.
 * The SDK clients keep sockets alive and reuse them without an idle limit of their own; with
 * Node's default a request sent as the server drops the idle socket fails as "socket hang up"
 * (ECONNRESET), which the SDK reports as a TimeoutError — seen under load in the saga tests. The
 * header and request timeouts must not cut an idle connection first. Stops are unaffected: they
 * close idle connections at once (`serverStop`).
 */
export function keepIdleConnections(server: NetServer): void {
  // listenOnLoopback also takes plain TCP servers (port probes), which have no keep-alive.
  if (!(server instanceof HttpServer)) return;
  server.keepAliveTimeout = IDLE_CONNECTION_MS;
  server.headersTimeout = IDLE_CONNECTION_MS + 1_000;
  server.requestTimeout = 0;
}
