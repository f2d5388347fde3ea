import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoHandle, startDynamo } from '#infra/local/engines/dynamodb';
import { PortInUse } from '#infra/local/engines/errors';

function clientFor(handle: DynamoHandle): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: handle.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

describe.each([false, true])('dynalite engine (on its own thread: %s)', (thread) => {
  let dataDir: string;
  const handles: DynamoHandle[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tenantry-dynamo-'));
  });

  afterAll(async () => {
    await Promise.all(handles.map((handle) => handle.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the DynamoDB API to the v3 SDK and keeps items across a restart', async () => {
    const first = await startDynamo({ dataDir, port: 0, thread });
    handles.push(first);
    expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = clientFor(first);
    await client.send(
      new CreateTableCommand({
        TableName: 'audit',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    const key = { pk: { S: 'TENANT#t1' }, sk: { S: 'EVENT#1' } };
    await client.send(new PutItemCommand({ TableName: 'audit', Item: { ...key, action: { S: 'created' } } }));
    const read = await client.send(new GetItemCommand({ TableName: 'audit', Key: key }));
    expect(read.Item?.action?.S).toBe('created');
    client.destroy();
    await first.stop();

    const second = await startDynamo({ dataDir, port: 0, thread });
    handles.push(second);
    const again = clientFor(second);
    const reread = await again.send(
      new GetItemCommand({ TableName: 'audit', Key: key, ConsistentRead: true }),
    );
    expect(reread.Item).toEqual({ ...key, action: { S: 'created' } });

    // Documented limitation: if dynalite ever gains transactions, docs/local-platform.md must change.
    await expect(
      again.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: 'audit', Item: { pk: { S: 'x' }, sk: { S: 'y' } } } }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'UnknownOperationException' });
    again.destroy();
    await second.stop();
  });

  it('reports a busy port as PortInUse', async () => {
    const holder = await startDynamo({ dataDir: path.join(dataDir, 'other'), port: 0, thread });
    handles.push(holder);
    const attempt = startDynamo({ dataDir: path.join(dataDir, 'third'), port: holder.port, thread });
    await expect(attempt).rejects.toBeInstanceOf(PortInUse);
    await expect(attempt).rejects.toThrow(String(holder.port));
    await holder.stop();
  });
});
