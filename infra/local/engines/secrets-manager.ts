/**
 * A Secrets Manager stand-in that speaks the real wire protocol, so the project's AWS adapter
 * (shared/adapters/secrets-manager-store.ts, a SecretsManagerClient) runs unchanged on the local
 * platform. AWS JSON 1.1: `POST /` with `X-Amz-Target: secretsmanager.<Operation>` and
 * `Content-Type: application/x-amz-json-1.1`, a JSON body in and out; errors as HTTP 400 (500 for
 * our own faults) with `{"__type": "<Code>", "Message": "…"}`.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonParameters.html
 *
 * Operations: CreateSecret, GetSecretValue, PutSecretValue, DescribeSecret, TagResource,
 * UntagResource, DeleteSecret, RestoreSecret, ListSecrets. Before each one the stand-in asks the
 * IAM stand-in (`authorize`) with the access key id of the SigV4 signature and the condition keys
 * AWS documents (see secrets-manager-access.ts). What it enforces and where it differs from AWS:
 * docs/local-platform.secrets-manager.draft.md.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { type Authorize, accessKeyIdOf, allowAll, LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../iam/access.ts';
import { serverStop } from './http-server.ts';
import { LOOPBACK, listenOnLoopback } from './ports.ts';
import { OPERATIONS } from './secrets-manager-operations.ts';
import { currentVersion, SecretsState, tagsRecord } from './secrets-manager-state.ts';
import { type JsonObject, ServiceError } from './secrets-manager-wire.ts';

const ENGINE = 'secrets manager';
const TARGET_PREFIX = 'secretsmanager.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Far above any valid request (a SecretString is at most 65,536 characters). */
const MAX_BODY_BYTES = 1024 * 1024;

export interface SecretsManagerOptions {
  /** Folder for the state file `secrets-manager.json` (created if missing, mode 0700). */
  readonly dataDir: string;
  /** A loopback address, e.g. LOOPBACK; anything else is refused. */
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Default LOCAL_REGION. */
  readonly region?: string;
  /** Default LOCAL_ACCOUNT_ID. */
  readonly accountId?: string;
  /** The IAM stand-in's answer to each request; default: allow everything. */
  readonly authorize?: Authorize;
  /** The clock (creation dates, recovery windows); default: the system clock. */
  readonly now?: () => Date;
}

export interface SecretLookup {
  readonly arn: string;
  readonly name: string;
  readonly tags: Record<string, string>;
  /** The AWSCURRENT SecretString. */
  readonly value: string;
}

export interface SecretsManagerHandle {
  /** e.g. `http://127.0.0.1:4583`; give it to SecretsManagerClient as `endpoint`. */
  readonly endpoint: string;
  stop(): Promise<void>;
  /**
   * In-process read without IAM, for the Data API stand-in (which reads the secret it is given
   * with the Data API's own permission). By full ARN, partial ARN or name; null when no secret
   * answers, when it is in its recovery window, or when it has no AWSCURRENT value.
   */
  lookup(arnOrName: string): Promise<SecretLookup | null>;
}

export async function startSecretsManager(options: SecretsManagerOptions): Promise<SecretsManagerHandle> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const region = options.region ?? LOCAL_REGION;
  const now = options.now ?? (() => new Date());
  const state = await SecretsState.open({
    dataDir,
    region,
    accountId: options.accountId ?? LOCAL_ACCOUNT_ID,
    now,
  });
  const authorize = options.authorize ?? allowAll;

  const server = createServer((request, response) => {
    serve(request, response, { state, authorize, region, now }).catch(() => {
      // Never a stack trace or internal detail on the wire.
      if (!response.headersSent)
        sendError(
          response,
          new ServiceError('InternalServiceError', 'An error occurred on the server side.', 500),
        );
      else response.destroy();
    });
  });
  const port = await listenOnLoopback(server, options.port, ENGINE, options.host);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    endpoint: `http://${host === 'localhost' ? LOOPBACK : host}:${port}`,
    stop: serverStop(server, { forceCloseAfterMs: 1_000 }),
    lookup: (arnOrName) =>
      state.exclusive(async () => {
        const secret = state.find(arnOrName);
        const version = secret === undefined ? undefined : currentVersion(secret);
        if (secret === undefined || secret.deletionDate !== undefined || version === undefined) return null;
        return {
          arn: secret.arn,
          name: secret.name,
          tags: tagsRecord(secret.tags),
          value: version.secretString,
        };
      }),
  };
}

interface ServeContext {
  readonly state: SecretsState;
  readonly authorize: Authorize;
  readonly region: string;
  readonly now: () => Date;
}

async function serve(request: IncomingMessage, response: ServerResponse, ctx: ServeContext): Promise<void> {
  const target = request.headers['x-amz-target'];
  const operationName =
    typeof target === 'string' && target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : undefined;
  const operation = operationName === undefined ? undefined : OPERATIONS[operationName];
  if (request.method !== 'POST' || operation === undefined) {
    request.resume();
    sendError(
      response,
      new ServiceError('UnknownOperationException', `Unknown operation ${String(target ?? '')}`),
    );
    return;
  }
  let input: JsonObject;
  try {
    input = parseBody(await readBody(request));
  } catch (error) {
    sendError(response, error instanceof ServiceError ? error : serializationFailure());
    return;
  }
  const accessKeyId = accessKeyIdOf(request.headers.authorization);
  try {
    const output = await ctx.state.exclusive(() =>
      // An IAM stand-in that throws fails the request (500), never lets it through.
      operation(
        { state: ctx.state, authorize: ctx.authorize, accessKeyId, region: ctx.region, now: ctx.now },
        input,
      ),
    );
    send(response, 200, output);
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    sendError(response, error);
  }
}

function parseBody(body: Buffer): JsonObject {
  if (body.length === 0) return {};
  const parsed: unknown = JSON.parse(body.toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw serializationFailure();
  return parsed as JsonObject;
}

function serializationFailure(): ServiceError {
  return new ServiceError('SerializationException', 'The request body is not a JSON object');
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES)
      throw new ServiceError('SerializationException', 'The request body is too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, body: JsonObject, errorType?: string): void {
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'x-amzn-requestid': randomUUID(),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  response.end(JSON.stringify(body));
}

function sendError(response: ServerResponse, error: ServiceError): void {
  send(response, error.status, { __type: error.code, Message: error.message }, error.code);
}
