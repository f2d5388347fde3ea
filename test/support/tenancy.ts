import { randomBytes } from 'node:crypto';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { ensureMasterOwnedDatabase, MASTER_USER } from '#infra/local/engines/aurora-master';
import type { PlatformInfo } from '#infra/local/platform-info';
import { DataApiSqlRunner } from '#shared/adapters/data-api-sql';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
import type { SqlRunner } from '#shared/ports/sql';
import type { Actor } from './actors.ts';

type Response = Awaited<ReturnType<Actor['call']>>;

/** A well-formed tenant id that no tenant has (100 random bits). */
export function unknownTenantId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return `t_${[...randomBytes(20)].map((b) => alphabet[b & 31]).join('')}`;
}

/** A well-formed custom role id that no role has. */
export function unknownRoleId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return `r_${[...randomBytes(16)].map((b) => alphabet[b & 31]).join('')}`;
}

/** Fails with the whole answer when the status is not the expected one (easier to debug). */
export function expectStatus(response: Response, ...statuses: number[]): Response {
  if (!statuses.includes(response.status)) {
    throw new Error(
      `expected ${statuses.join(' or ')}, got ${response.status}: ${JSON.stringify(response.body)}`,
    );
  }
  return response;
}

export const errorOf = (response: Response) =>
  (response.body as { error?: { code?: string; message?: string; details?: unknown[] } }).error;

/**
 * Runs `work` with a superuser connection to one database of the local platform: for a test to
 * look at PostgreSQL or set state behind the API's back, never for the code under test.
 */
export async function withPg<T>(
  info: PlatformInfo,
  database: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ ...info.postgres, database });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Sets a tenant's status behind the API's back, as an operator (or another instance) would. */
export async function setTenantStatus(info: PlatformInfo, tenantId: string, status: string): Promise<void> {
  await withPg(info, 'control', (client) =>
    client.query('update tenants set status = $1 where id = $2', [status, tenantId]),
  );
}

/**
 * An access key that belongs to no function: the IAM stand-in allows it everything, as it allows
 * an administrator's own credentials.
 */
export const OPERATOR_CREDENTIALS = { accessKeyId: 'test-operator', secretAccessKey: 'x' } as const;

/** A SQL runner and what it holds open. */
export interface ClosableRunner {
  readonly runner: SqlRunner;
  close(): void;
}

/**
 * The SQL port as the product meets it in AWS: the Data API adapter through the Data API
 * stand-in, logged in with `secretArn` (the cluster's master secret unless told otherwise) to
 * `database`. The client is built as the composition root builds it (no SDK retries).
 */
export function dataApiRunner(
  info: PlatformInfo,
  database: string,
  secretArn: string = info.dataApi.masterSecretArn,
): ClosableRunner {
  const client = new RDSDataClient({
    region: info.region,
    endpoint: info.dataApi.endpoint,
    credentials: OPERATOR_CREDENTIALS,
    maxAttempts: 1,
  });
  const runner = new DataApiSqlRunner({
    client,
    resourceArn: info.dataApi.clusterArn,
    secretArn,
    database,
  });
  return { runner, close: () => client.destroy() };
}

export interface TempDatabase {
  readonly name: string;
  /** The master's runner on the database, through the Data API. */
  readonly runner: SqlRunner;
  /** Another runner on the same database, with a client of its own (for concurrency tests); closed by `drop`. */
  newRunner(): SqlRunner;
  drop(): Promise<void>;
}

const superuserUrl = (info: PlatformInfo, database = 'postgres') =>
  `postgres://${encodeURIComponent(info.postgres.user)}:${encodeURIComponent(info.postgres.password)}@${info.postgres.host}:${info.postgres.port}/${database}`;

/**
 * A fresh, empty database on the booted platform's cluster, made as RDS makes one (owned by the
 * master, not a superuser), with runners that reach it as the product does: the Data API adapter,
 * as the master. Only its creation and `drop()` are the superuser's (what RDS and the test's own
 * cleanup do); every statement given to a runner meets the master's privileges and the Data API's
 * limits.
 */
export async function createTempDatabase(info: PlatformInfo, prefix: string): Promise<TempDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await ensureMasterOwnedDatabase(superuserUrl(info), name, MASTER_USER);
  const opened: ClosableRunner[] = [];
  const newRunner = () => {
    const made = dataApiRunner(info, name);
    opened.push(made);
    return made.runner;
  };
  const runner = newRunner();
  return {
    name,
    runner,
    newRunner,
    drop: async () => {
      for (const made of opened) made.close();
      await withPg(info, 'postgres', (client) =>
        client.query(`drop database if exists ${name} with (force)`),
      );
    },
  };
}

/** A temp database with the control schema applied (by the master, as the migration custom resource does). */
export async function createControlDatabase(info: PlatformInfo, prefix = 'control_test') {
  const db = await createTempDatabase(info, prefix);
  await migrate(db.runner, controlMigrations);
  return db;
}

export async function databaseExists(info: PlatformInfo, name: string): Promise<boolean> {
  const result = await withPg(info, 'postgres', (client) =>
    client.query('select 1 from pg_database where datname = $1', [name]),
  );
  return (result.rowCount ?? 0) > 0;
}
