/**
 * The local DynamoDB API: `dynalite` running in this process, stored on disk (LevelDB) under
 * `dataDir`. The same DynamoDB adapter code talks to it as to AWS, only the endpoint differs.
 *
 * dynalite has no transactions (TransactWriteItems/TransactGetItems), no PartiQL and no TTL
 * (UpdateTimeToLive is not implemented, expired items are never removed): data access must not
 * need them, and readers filter expired items themselves.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EngineStartFailed, PortInUse } from './errors.ts';
import { serverStop } from './http-server.ts';
import { LOOPBACK, listenOnLoopback } from './ports.ts';

const ENGINE = 'dynamodb (dynalite)';

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}
type Dynalite = (options: DynaliteOptions) => Server;

// dynalite is CommonJS without type declarations; this is its documented factory signature.
const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;

export interface DynamoOptions {
  /** Folder for the LevelDB store (created if missing). */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /**
   * Serve from a worker thread, so that LevelDB work does not share the caller's event loop (the
   * local platform: its API must not queue behind the consumers' writes).
   * @default false
   */
  thread?: boolean;
}

export interface DynamoHandle {
  /** e.g. `http://127.0.0.1:8000`; give it to DynamoDBClient as `endpoint`. */
  endpoint: string;
  port: number;
  timings: { startMs: number };
  stop(): Promise<void>;
}

async function startDynamoThread(
  dataDir: string,
  requestedPort: number,
  began: number,
): Promise<DynamoHandle> {
  const worker = new Worker(new URL('./dynamodb-thread.mjs', import.meta.url), {
    workerData: { path: dataDir, port: requestedPort, host: LOOPBACK },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { type: string; port?: number; code?: string; message?: string }) => {
      if (message.type === 'listening' && message.port !== undefined) resolve(message.port);
      else if (message.code === 'EADDRINUSE') reject(new PortInUse(ENGINE, requestedPort));
      else reject(new EngineStartFailed(ENGINE, message.message ?? 'dynalite did not start'));
    });
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      worker.once('message', () => {
        void worker.terminate().then(() => resolve());
      });
      worker.postMessage('stop');
    });
    return stopped;
  };
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    port,
    timings: { startMs: Math.round(performance.now() - began) },
    stop,
  };
}

export async function startDynamo(options: DynamoOptions): Promise<DynamoHandle> {
  const began = performance.now();
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  if (options.thread) return startDynamoThread(dataDir, options.port, began);
  // Tables become ACTIVE at once (AWS takes seconds; nothing here should wait for it).
  const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listenOnLoopback(server, options.port, ENGINE);

  // dynalite's close() also closes LevelDB, which releases the folder lock for the next start.
  const stop = serverStop(server, { forceCloseAfterMs: 2_000 });

  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    port,
    timings: { startMs: Math.round(performance.now() - began) },
    stop,
  };
}
