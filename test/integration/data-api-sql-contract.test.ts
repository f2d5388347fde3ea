import { afterAll, expect } from 'vitest';
import { DataApiSqlRunner } from '#shared/adapters/data-api-sql';
import { type DataApiFixture, dataApiFixture } from '../support/data-api-fixture.ts';
import { sqlContractSuite } from '../support/sql-contract.ts';

/*
 * The SQL port contract, run against the AWS adapter: DataApiSqlRunner → RDSDataClient → the Data
 * API stand-in (infra/local/engines/data-api) → PostgreSQL, logged in as a throwaway role that
 * owns a throwaway database. The same suite runs against PgSqlRunner in sql-contract.test.ts.
 */
let fixture: DataApiFixture | undefined;

sqlContractSuite('DataApiSqlRunner (through the Data API stand-in)', async () => {
  fixture = await dataApiFixture('dapi_contract');
  const { client } = await fixture.start();
  const runner = new DataApiSqlRunner({
    client,
    resourceArn: fixture.clusterArn,
    secretArn: fixture.secretArn,
    database: fixture.database,
  });
  return { runner, cleanup: () => fixture?.cleanup() ?? Promise.resolve() };
});

afterAll(async () => {
  if (!fixture) return;
  const left = await fixture.admin(
    (client) => client.query('select 1 from pg_database where datname = $1', [fixture?.database]),
    'postgres',
  );
  expect(left.rowCount, `database ${fixture.database} was left behind`).toBe(0);
});
