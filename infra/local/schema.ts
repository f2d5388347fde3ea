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
import { recordTables } from '#shared/records/tables';
import { ensureMasterOwnedDatabase, type MasterCredentials } from './engines/aurora-master.ts';
import { ensureUserPool, type UserPoolIds } from './engines/cognito.ts';
import type { PostgresHandle } from './engines/postgres.ts';
import { CONTROL_DATABASE } from './platform-info.ts';

/**
 * The control database, created owned by the master as RDS creates the cluster's default
 * database. Its migrations run later, through the migrator function (`runControlMigrations`).
 */
export async function ensureControlDatabase(
  postgres: PostgresHandle,
  master: MasterCredentials,
): Promise<void> {
  await ensureMasterOwnedDatabase(postgres.connectionString('postgres'), CONTROL_DATABASE, master.user);
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
  const dynamoClient = new DynamoDBClient({
    region,
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
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
