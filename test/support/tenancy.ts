import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PlatformInfo } from '#infra/local/platform-info';
import { PgSqlRunner } from '#shared/adapters/pg-sql';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
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

/** Runs `work` with a superuser connection to one database of the local platform. */
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

export interface TempDatabase {
  readonly name: string;
  readonly runner: PgSqlRunner;
  /** Another runner on the same database (for concurrency tests); closed by `drop`. */
  newRunner(): PgSqlRunner;
  drop(): Promise<void>;
}

/** A fresh, empty database on the booted platform's PostgreSQL; `drop()` removes it. */
export async function createTempDatabase(info: PlatformInfo, prefix: string): Promise<TempDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withPg(info, 'postgres', (client) => client.query(`create database ${name}`));
  const runners: PgSqlRunner[] = [];
  const newRunner = () => {
    const runner = new PgSqlRunner({ ...info.postgres, database: name, max: 4 });
    runners.push(runner);
    return runner;
  };
  const runner = newRunner();
  return {
    name,
    runner,
    newRunner,
    drop: async () => {
      await Promise.all(runners.map((r) => r.close().catch(() => {})));
      await withPg(info, 'postgres', async (client) => {
        await client.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [name],
        );
        await client.query(`drop database if exists ${name}`);
      });
    },
  };
}

/** A temp database with the control schema applied. */
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
