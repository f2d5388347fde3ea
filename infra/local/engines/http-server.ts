import type { Server } from 'node:http';

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
