/**
 * What the local platform creates in its engines before a handler runs, as CDK and the
 * deployment do in AWS: the control database and its migrations, the DynamoDB record tables and
 * the user pool. Every step finds what an earlier start created and keeps it.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import pg from 'pg';
import { PgSqlRunner } from '#shared/adapters/pg-sql';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
import { recordTables } from '#shared/records/tables';
import type { Stops } from './boot.ts';
import { ensureUserPool, type UserPoolIds } from './engines/cognito.ts';
import type { PostgresHandle } from './engines/postgres.ts';
import { CONTROL_DATABASE } from './platform-info.ts';

/** Creates a database once; `CONNECT` is revoked from PUBLIC so no tenant role can open it. */
async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
    await client.query(`revoke connect on database "${database}" from public`);
    await client.query('revoke connect on database postgres from public');
  } finally {
    await client.end();
  }
}

/** The control database, created and migrated; its connection pool is closed by `stops`. */
export async function migrateControlDatabase(
  postgres: PostgresHandle,
  stops: Stops,
  log: (line: string) => void,
): Promise<PgSqlRunner> {
  await ensureDatabase(postgres.connectionString('postgres'), CONTROL_DATABASE);
  const control = new PgSqlRunner({ connectionString: postgres.connectionString(CONTROL_DATABASE) });
  stops.push(() => control.close());
  const migrated = await migrate(control, controlMigrations);
  if (migrated.applied.length > 0) log(`control database migrated to version ${migrated.current}`);
  return control;
}

async function ensureTables(client: DynamoDBClient, names: Record<string, string>): Promise<void> {
  for (const [id, name] of Object.entries(names)) {
    const spec = recordTables[id as keyof typeof recordTables];
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
      continue;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: spec.partitionKey, AttributeType: 'S' },
          { AttributeName: spec.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: spec.partitionKey, KeyType: 'HASH' },
          { AttributeName: spec.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  }
}

/** The record tables (record table id → table name) in the local DynamoDB API. */
export async function ensureRecordTables(
  dynamo: { readonly endpoint: string },
  region: string,
  tables: Record<keyof typeof recordTables, string>,
): Promise<void> {
  const dynamoClient = new DynamoDBClient({ region, endpoint: dynamo.endpoint });
  await ensureTables(dynamoClient, tables);
  dynamoClient.destroy();
}

/** The stage's user pool, app client and the groups the handlers check. */
export function ensureStageUserPool(
  cognito: { readonly endpoint: string },
  stage: string,
): Promise<UserPoolIds> {
  return ensureUserPool({
    endpoint: cognito.endpoint,
    poolName: `tenantry-${stage}`,
    clientName: `tenantry-${stage}-api`,
    groups: ['platform-admin', 'finance'],
  });
}
