/**
 * Runs one statement on a connection under the Data API's call timeout. "By default, the Data API
 * cancels an operation and returns a timeout error if the operation doesn't finish processing
 * within 45 seconds. … you can specify the continueAfterTimeout parameter … Your application still
 * receives the timeout error. However, the operation continues running and isn't canceled."
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-timeouts.html
 */
import { connect } from 'node:net';
import type pg from 'pg';
import { statementTimeout } from './errors.ts';

export interface StatementRun {
  /** Settles with the answer for the caller: the result, its error, or StatementTimeoutException. */
  readonly answer: Promise<pg.QueryArrayResult>;
  /** Settles (never rejects) when the connection is free again, which is later after a timeout. */
  readonly finished: Promise<void>;
}

interface CancelTarget {
  readonly host: string;
  readonly port: number;
}

/** The backend's process id and cancel key, which node-postgres keeps on the client. */
function backendOf(client: pg.PoolClient): { pid: number; key: number } | undefined {
  // Not in @types/pg: node-postgres stores both from BackendKeyData on every Client.
  const { processID, secretKey } = client as unknown as { processID?: unknown; secretKey?: unknown };
  return typeof processID === 'number' && typeof secretKey === 'number'
    ? { pid: processID, key: secretKey }
    : undefined;
}

export const backendPid = (client: pg.PoolClient): number | undefined => backendOf(client)?.pid;

/**
 * PostgreSQL's CancelRequest (a separate connection carrying code 80877102, the backend's pid and
 * key; https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS).
 * It needs no login, so a busy pool cannot keep a statement from being cancelled.
 */
function cancelBackend(target: CancelTarget, client: pg.PoolClient): void {
  const backend = backendOf(client);
  if (backend === undefined) return;
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(80_877_102, 4);
  message.writeInt32BE(backend.pid, 8);
  message.writeInt32BE(backend.key, 12);
  const socket = connect(target.port, target.host, () => socket.end(message));
  socket.on('error', () => {});
}

export function runStatement(
  client: pg.PoolClient,
  statement: { text: string; values: unknown[] },
  options: { timeoutMs: number; continueAfterTimeout: boolean; cancel: CancelTarget },
): StatementRun {
  const running = client.query({
    text: statement.text,
    values: statement.values,
    rowMode: 'array',
    queryMode: 'extended',
  } as pg.QueryArrayConfig);
  const finished = running.then(
    () => undefined,
    () => undefined,
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (!options.continueAfterTimeout) cancelBackend(options.cancel, client);
      reject(statementTimeout(backendPid(client)));
    }, options.timeoutMs);
  });
  const answer = Promise.race([running, timeout]).finally(() => clearTimeout(timer));
  // The loser of the race must not become an unhandled rejection.
  running.catch(() => {});
  timeout.catch(() => {});
  return { answer, finished };
}
