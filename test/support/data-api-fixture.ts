import { randomBytes } from 'node:crypto';
import {
  BeginTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  RDSDataClient,
} from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { inject } from 'vitest';
import {
  type DataApiHandle,
  type DataApiOptions,
  type StoredSecret,
  startDataApi,
} from '#infra/local/engines/data-api/index';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '#infra/local/iam/access';

/**
 * A throwaway PostgreSQL login role that owns a throwaway database, a Secrets Manager-shaped
 * secret for it, and Data API stand-ins in front of the test platform's PostgreSQL, reached with
 * the real RDSDataClient. Everything made is dropped by `cleanup`.
 */
export interface DataApiFixture {
  readonly clusterArn: string;
  readonly database: string;
  readonly role: string;
  readonly password: string;
  readonly postgresHost: string;
  readonly postgresPort: number;
  readonly secretArn: string;
  /** Secrets the stand-ins can read, by ARN and by name; tests may add their own. */
  readonly secrets: Map<string, StoredSecret>;
  addSecret(name: string, value: string, tags?: Record<string, string>): StoredSecret;
  /** A stand-in with these options (cluster, postgres and secrets filled in) and a client for it. */
  start(
    options?: Partial<Omit<DataApiOptions, 'secrets'>>,
  ): Promise<{ handle: DataApiHandle; client: RDSDataClient }>;
  /** A superuser connection to `database` (default: the throwaway one). */
  admin<T>(work: (client: pg.Client) => Promise<T>, database?: string): Promise<T>;
  cleanup(): Promise<void>;
}

export const secretArnFor = (name: string) =>
  `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:secret:${name}-AbCdEf`;

export function dataApiClient(endpoint: string, accessKeyId = 'AKIDLOCALTEST'): RDSDataClient {
  return new RDSDataClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId, secretAccessKey: 'not-a-secret' },
    maxAttempts: 1,
  });
}

export async function dataApiFixture(prefix: string): Promise<DataApiFixture> {
  const postgres = inject('platform').postgres;
  const suffix = randomBytes(5).toString('hex');
  // Not the database's name: a call without `database` must not find it by accident.
  const role = `${prefix}_role_${suffix}`;
  const database = `${prefix}_${suffix}`;
  const password = randomBytes(18).toString('base64url');
  const clusterArn = `arn:aws:rds:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:cluster:${prefix}-${suffix}`;

  const admin = async <T>(work: (client: pg.Client) => Promise<T>, on = database): Promise<T> => {
    const client = new pg.Client({ ...postgres, database: on });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  await admin(async (client) => {
    await client.query(`create role ${role} login password '${password}'`);
    await client.query(`create database ${database} owner ${role}`);
  }, 'postgres');

  const secrets = new Map<string, StoredSecret>();
  const addSecret = (name: string, value: string, tags: Record<string, string> = {}) => {
    const secret = { arn: secretArnFor(name), name, tags, value };
    secrets.set(secret.arn, secret);
    secrets.set(name, secret);
    return secret;
  };
  const main = addSecret(
    `${prefix}/${suffix}`,
    JSON.stringify({ username: role, password, dbname: database }),
    {
      TenantId: `t_${suffix}`,
    },
  );

  const running: { handle: DataApiHandle; client: RDSDataClient }[] = [];
  return {
    clusterArn,
    database,
    role,
    password,
    postgresHost: postgres.host,
    postgresPort: postgres.port,
    secretArn: main.arn,
    secrets,
    addSecret,
    async start(options = {}) {
      const handle = await startDataApi({
        host: '127.0.0.1',
        port: 0,
        postgres: { host: postgres.host, port: postgres.port },
        clusterArn,
        secrets: { lookup: async (arnOrName) => secrets.get(arnOrName) ?? null },
        ...options,
      });
      const started = { handle, client: dataApiClient(handle.endpoint) };
      running.push(started);
      return started;
    },
    admin,
    async cleanup() {
      for (const { handle, client } of running) {
        client.destroy();
        await handle.stop();
      }
      await admin(async (client) => {
        await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [
          database,
        ]);
        await client.query(`drop database if exists ${database}`);
        await client.query(`drop role if exists ${role}`);
      }, 'postgres');
    },
  };
}

/** What a rejected SDK call carried: the exception's name, message and HTTP status. */
export interface CallFailure {
  readonly error: Error;
  readonly name: string;
  readonly message: string;
  readonly status: number | undefined;
}

export async function failure(call: Promise<unknown>): Promise<CallFailure> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('the call should have failed');
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return { error, name: error.name, message: error.message, status };
}

/** A request sent without the SDK, to see the bytes on the wire. Signed with a made-up key. */
export async function rawCall(
  endpoint: string,
  path: string,
  body: string,
  headers: Record<string, string> = {
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIDRAWCALL/20240101/us-east-1/rds-data/aws4_request, SignedHeaders=host, Signature=0',
  },
): Promise<{ status: number; errorType: string | null; text: string; bytes: number }> {
  const response = await fetch(`${endpoint}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-errortype'),
    text,
    bytes: Buffer.byteLength(text),
  };
}

/**
 * The calls every Data API test makes against a fixture: `target()` names its cluster, secret
 * and database; `exec` and `begin` send with `client()` unless given another client. Both are
 * read when called, so the fixture and client may be made in `beforeAll`.
 */
export function fixtureCalls(fixture: () => DataApiFixture, client: () => RDSDataClient) {
  const target = () => ({
    resourceArn: fixture().clusterArn,
    secretArn: fixture().secretArn,
    database: fixture().database,
  });
  const exec = (
    input: Omit<ExecuteStatementCommandInput, 'resourceArn' | 'secretArn'>,
    via: RDSDataClient = client(),
  ) => via.send(new ExecuteStatementCommand({ ...target(), ...input }));
  const begin = async (via: RDSDataClient = client()) =>
    (await via.send(new BeginTransactionCommand(target()))).transactionId ?? '';
  return { target, exec, begin };
}
