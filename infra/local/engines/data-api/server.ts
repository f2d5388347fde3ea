/**
 * A stand-in for the RDS Data API in front of the embedded PostgreSQL, speaking the service's
 * restJson1 protocol to the real `RDSDataClient` (`POST /Execute`, `/BatchExecute`,
 * `/BeginTransaction`, `/CommitTransaction`, `/RollbackTransaction`: the `http` traits in
 * @aws-sdk/client-rds-data's schemas and https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_Operations.html).
 * What it enforces, and where it differs from AWS: docs/local-platform.data-api.draft.md.
 *
 * One route is not AWS's: `POST /_tenantry/pause {"seconds": N}` makes every call answer
 * DatabaseResumingException for N seconds, as a cluster at 0 ACU does while it resumes.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Authorize, accessKeyIdOf, allowAll } from '#infra/local/iam/access';
import { PortInUse } from '../errors.ts';
import { keepIdleConnections, serverStop } from '../http-server.ts';
import { isAddressInUse } from '../ports.ts';
import type { SecretSource } from './credentials.ts';
import {
  DataApiError,
  forbidden,
  resultTooLarge,
  serialization,
  unknownOperation,
  validation,
} from './errors.ts';
import { type DataApiLimits, dataApiLimits } from './limits.ts';
import { DataApiService, type OperationName } from './operations.ts';
import { PostgresPools } from './pools.ts';
import { Transactions } from './transactions.ts';
import { TypeCatalog } from './type-catalog.ts';

const ENGINE = 'data api';

export interface DataApiOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Where PostgreSQL listens; the stand-in logs in there as each secret's user. */
  readonly postgres: { readonly host: string; readonly port: number };
  /** The first cluster this endpoint serves (the control cluster). */
  readonly clusterArn: string;
  /**
   * More clusters on the same endpoint, each its own PostgreSQL server, as AWS serves every
   * cluster of a region on one Data API endpoint; any other `resourceArn` is unknown.
   * @default - none
   */
  readonly moreClusters?: readonly {
    readonly clusterArn: string;
    readonly postgres: DataApiOptions['postgres'];
  }[];
  readonly secrets: SecretSource;
  /** The IAM stand-in's question; default: everything allowed. */
  readonly authorize?: Authorize;
  readonly limits?: Partial<DataApiLimits>;
  /** The clock for transaction expiry and pauses (epoch ms); default `Date.now`. */
  readonly now?: () => number;
  /** Told about faults of the stand-in itself (answered as a bare 500); default: nothing. */
  readonly onError?: (error: unknown) => void;
}

export interface DataApiHandle {
  /** e.g. `http://127.0.0.1:9010`; give it to `RDSDataClient` as `endpoint`. */
  readonly endpoint: string;
  /** Every call answers DatabaseResumingException for `seconds` (by the stand-in's clock). */
  pause(seconds: number): void;
  /** Ends the transactions and closes the connections on `database` (before DROP DATABASE). */
  release(database: string): Promise<void>;
  /** Rolls back open transactions, closes every connection and the HTTP server. */
  stop(): Promise<void>;
}

const OPERATIONS: Readonly<Record<string, OperationName>> = {
  '/Execute': 'Execute',
  '/BatchExecute': 'BatchExecute',
  '/BeginTransaction': 'BeginTransaction',
  '/CommitTransaction': 'CommitTransaction',
  '/RollbackTransaction': 'RollbackTransaction',
};
const PAUSE_ROUTE = '/_tenantry/pause';

function send(response: ServerResponse, status: number, body: string, errorType?: string): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-requestid': randomUUID(),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  response.end(body);
}

function sendError(response: ServerResponse, error: DataApiError): void {
  send(response, error.status, JSON.stringify(error.body()), error.type);
}

/** The body, or undefined when it is larger than `limit` bytes. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) tooLarge = true;
    else chunks.push(buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw serialization('The request body is not valid JSON.');
  }
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  keepIdleConnections(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    if (isAddressInUse(error)) throw new PortInUse(ENGINE, port, { cause: error });
    throw error;
  }
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`${ENGINE}: not bound to a TCP port`);
  return address.port;
}

export async function startDataApi(options: DataApiOptions): Promise<DataApiHandle> {
  const limits = dataApiLimits(options.limits);
  const now = options.now ?? Date.now;
  let pausedUntil = Number.NEGATIVE_INFINITY;
  const pause = (seconds: number) => {
    pausedUntil = now() + seconds * 1000;
  };
  // One service per cluster, each with its own connections and transactions: a transaction id of
  // one cluster is unknown to another, as in AWS.
  const clusters = [
    { clusterArn: options.clusterArn, postgres: options.postgres },
    ...(options.moreClusters ?? []),
  ];
  const served = clusters.map(({ clusterArn, postgres }) => {
    const pools = new PostgresPools({ ...postgres, max: limits.poolMax, idleMs: limits.poolIdleMs });
    const transactions = new Transactions(now, limits);
    const service = new DataApiService({
      clusterArn,
      postgres,
      secrets: options.secrets,
      authorize: options.authorize ?? allowAll,
      limits,
      now,
      pools,
      transactions,
      types: new TypeCatalog(),
      pausedUntil: () => pausedUntil,
    });
    return { clusterArn, pools, transactions, service };
  });
  const byArn = new Map(served.map((cluster) => [cluster.clusterArn, cluster]));
  // An unknown ARN goes to the first cluster's service, which refuses it as it always has.
  const serviceFor = (input: unknown) =>
    (byArn.get(String((input as { resourceArn?: unknown } | null)?.resourceArn)) ?? served[0])?.service;

  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://data-api.local').pathname;
    const operation = OPERATIONS[path];
    if (request.method !== 'POST' || (operation === undefined && path !== PAUSE_ROUTE)) {
      throw unknownOperation(request.method ?? '', path);
    }
    const body = await readBody(request, limits.requestBytes);
    // "the maximum size of the HTTP request submitted through the Data API is 4 MiB. If the request
    // exceeds this limit, the Data API returns an error" (BatchExecuteStatement); the wording is ours.
    if (body === undefined)
      throw validation(`The request exceeds the size limit of ${limits.requestBytes} bytes.`);
    const input = parseJson(body);
    if (operation === undefined) {
      const seconds = (input as { seconds?: unknown }).seconds;
      if (typeof seconds !== 'number' || !(seconds >= 0)) throw validation('seconds must be a number ≥ 0');
      pause(seconds);
      send(response, 200, JSON.stringify({ pausedUntil: new Date(pausedUntil).toISOString() }));
      return;
    }
    if (request.headers.authorization === undefined) throw forbidden();
    const service = serviceFor(input);
    if (service === undefined) throw new Error(`${ENGINE}: no cluster`);
    const result = await service.handle(operation, accessKeyIdOf(request.headers.authorization), input);
    const text = JSON.stringify(result);
    if (Buffer.byteLength(text) > limits.responseBytes) throw resultTooLarge(limits.responseBytes);
    send(response, 200, text);
  };

  const server = createServer((request, response) => {
    answer(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        options.onError?.(error);
        response.destroy();
        return;
      }
      if (error instanceof DataApiError) sendError(response, error);
      else {
        options.onError?.(error);
        sendError(response, new DataApiError('InternalServerErrorException', 500, undefined));
      }
    });
  });
  const port = await listen(server, options.host, options.port);
  const closeServer = serverStop(server, { forceCloseAfterMs: 1_000 });
  const sweeper = setInterval(() => {
    for (const { transactions } of served) void transactions.sweep();
  }, limits.sweepIntervalMs);
  sweeper.unref();

  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${options.host}:${port}`,
    pause,
    async release(database) {
      for (const { transactions, pools } of served) {
        await transactions.abandon(database);
        await pools.release(database);
      }
    },
    stop() {
      stopped ??= (async () => {
        clearInterval(sweeper);
        await closeServer();
        for (const { transactions, pools } of served) {
          await transactions.abandon();
          await pools.closeAll();
        }
      })();
      return stopped;
    },
  };
}
