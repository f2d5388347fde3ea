import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, inject } from 'vitest';
import { PgSqlRunner } from '#shared/adapters/pg-sql';
import { sqlContractSuite } from '../support/sql-contract.ts';

// The pg adapter against real PostgreSQL: a fresh database for this file, dropped afterwards.
const database = `contract_${randomBytes(6).toString('hex')}`;

async function asAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...inject('platform').postgres, database: 'postgres' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

sqlContractSuite('PgSqlRunner', async () => {
  await asAdmin((client) => client.query(`create database ${database}`));
  const runner = new PgSqlRunner({ ...inject('platform').postgres, database, max: 4 });
  return {
    runner,
    cleanup: async () => {
      await runner.close();
      await asAdmin(async (client) => {
        await client.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [database],
        );
        await client.query(`drop database if exists ${database}`);
      });
    },
  };
});

afterAll(async () => {
  const left = await asAdmin((client) =>
    client.query('select 1 from pg_database where datname = $1', [database]),
  );
  expect(left.rowCount, `database ${database} was left behind`).toBe(0);
});
