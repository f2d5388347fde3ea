import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AdminCreateUserCommand,
  AccessDeniedException as CognitoAccessDenied,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  ListUsersCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  CreateTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CognitoHandle, ensureUserPool, startCognito } from '#infra/local/engines/cognito';
import { type DynamoHandle, startDynamo } from '#infra/local/engines/dynamodb';
import { type IamGateHandle, startIamGate } from '#infra/local/engines/iam-gate';
import { cognitoUserPoolRules } from '#infra/local/engines/iam-gate-cognito';
import { dynamodbRules } from '#infra/local/engines/iam-gate-dynamodb';
import {
  type AccessDecision,
  type AccessRequest,
  type Authorize,
  accessDeniedMessage,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
} from '#infra/local/iam/access';
import { arnsIn } from '#infra/local/iam/physical-names';
import { parsePolicyDocument } from '#infra/local/iam/policy-document';
import { createTemplateAuthorizer, type LocalCredentials } from '#infra/local/iam/template-authorizer';
import type { FunctionPolicies } from '#infra/local/iam/template-policies';

// The IAM gate in front of real dynalite and real cognito-local, judged by a real template
// authorizer; the clients are the AWS SDK's, signed with the function's own credentials.
// Resources per action: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
// and https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncognitouserpools.html
// Denial wording: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html

const arn = arnsIn({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
const ENTRY = 'records/write-record';
const PASSWORD = 'Corr3ct-Horse!';
/** A key the IAM stand-in did not hand out: a person's own profile, allowed as an administrator. */
const ADMIN = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

function functionWith(statements: readonly unknown[]): FunctionPolicies {
  return {
    entry: ENTRY,
    stack: 'Test',
    functionLogicalId: 'WriteRecord',
    functionName: 'write-record',
    role: {
      stack: 'Test',
      logicalId: 'WriteRecordRole',
      name: 'WriteRecordRole',
      arn: 'arn:aws:iam::000000000000:role/WriteRecordRole',
      tags: {},
    },
    policies: [
      {
        name: 'Inline',
        source: 'Test/WriteRecordRole',
        document: parsePolicyDocument({ Version: '2012-10-17', Statement: statements }),
      },
    ],
    unresolved: [],
    environmentKeys: [],
  };
}

/** Every question the gate asks, answered by `inner` (or a failure when `fail` is set). */
function recorder(inner: Authorize) {
  const asked: AccessRequest[] = [];
  const state = { fail: false, expired: false };
  const authorize: Authorize = (request) => {
    asked.push(request);
    if (state.fail) throw new Error('policy store unreachable');
    // As the IAM stand-in answers a key whose session has expired (template-authorizer.ts).
    if (state.expired)
      return { allowed: false, expired: true, principalArn: 'arn:aws:sts::000000000000:assumed-role/R/s' };
    return inner(request);
  };
  return { asked, authorize, state };
}

function denied(
  credentials: LocalCredentials,
  explicit = false,
): Extract<AccessDecision, { allowed: false }> {
  return { allowed: false, principalArn: credentials.sessionArn, explicit };
}

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the call should have been refused').toBeInstanceOf(Error);
  return error as Error;
}

/** A raw call, as the SDK would send it, with an `Authorization` header naming `accessKeyId`. */
function post(
  endpoint: string,
  target: string,
  body: unknown,
  options: { accessKeyId?: string; contentType?: string } = {},
) {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/x-amz-json-1.0',
    'x-amz-target': target,
    'x-amz-date': '20260101T000000Z',
  };
  if (options.accessKeyId !== undefined) {
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${options.accessKeyId}/20260101/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;
  }
  return fetch(`${endpoint}/`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('the IAM gate in front of dynalite', () => {
  let dataDir: string;
  let dynamo: DynamoHandle;
  let gate: IamGateHandle;
  let iam: ReturnType<typeof recorder>;
  let fn: LocalCredentials;
  let asFunction: DynamoDBDocumentClient;
  let asAdmin: DynamoDBDocumentClient;
  const clients: DynamoDBClient[] = [];

  const client = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
    const raw = new DynamoDBClient({
      endpoint: gate.endpoint,
      region: LOCAL_REGION,
      credentials,
      maxAttempts: 1,
    });
    clients.push(raw);
    return DynamoDBDocumentClient.from(raw);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tenantry-iam-gate-dynamo-'));
    dynamo = await startDynamo({ dataDir, port: 0 });
    const authorizer = createTemplateAuthorizer([
      functionWith([
        {
          Effect: 'Allow',
          Action: [
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:DeleteItem',
            'dynamodb:Query',
            'dynamodb:BatchWriteItem',
            'dynamodb:DescribeTable',
            'dynamodb:PartiQLInsert',
          ],
          Resource: arn.dynamodbTable('granted'),
        },
        // Only the index: Query on the table itself is not granted.
        { Effect: 'Allow', Action: 'dynamodb:Query', Resource: arn.dynamodbIndex('indexed', 'by-owner') },
        { Effect: 'Allow', Action: 'dynamodb:ListTables', Resource: '*' },
        { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: arn.dynamodbTable('granted') },
      ]),
    ]);
    iam = recorder(authorizer.authorize);
    fn = authorizer.credentialsFor(ENTRY);
    gate = await startIamGate({
      port: 0,
      upstream: dynamo.endpoint,
      service: dynamodbRules(),
      authorize: iam.authorize,
    });
    asFunction = client(fn);
    asAdmin = client(ADMIN);
    const key = { AttributeName: 'pk', KeyType: 'HASH' } as const;
    for (const TableName of ['granted', 'other']) {
      await asAdmin.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [key],
        }),
      );
    }
    await asAdmin.send(
      new CreateTableCommand({
        TableName: 'indexed',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'owner', AttributeType: 'S' },
        ],
        KeySchema: [key],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'by-owner',
            KeySchema: [{ AttributeName: 'owner', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    await asAdmin.send(new PutCommand({ TableName: 'indexed', Item: { pk: 'r1', owner: 'o1' } }));
    iam.asked.length = 0;
  });

  afterEach(() => {
    iam.asked.length = 0;
    iam.state.fail = false;
  });

  afterAll(async () => {
    for (const raw of clients) raw.destroy();
    await gate?.stop();
    await dynamo?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("lets the function's granted calls through with the engine's own answer, byte for byte", async () => {
    await asFunction.send(new PutCommand({ TableName: 'granted', Item: { pk: 'a', n: 1 } }));
    const read = await asFunction.send(new GetCommand({ TableName: 'granted', Key: { pk: 'a' } }));

    expect(read.Item).toEqual({ pk: 'a', n: 1 });
    expect(iam.asked.map(({ accessKeyId, action, resource }) => ({ accessKeyId, action, resource }))).toEqual(
      [
        { accessKeyId: fn.accessKeyId, action: 'dynamodb:PutItem', resource: arn.dynamodbTable('granted') },
        { accessKeyId: fn.accessKeyId, action: 'dynamodb:GetItem', resource: arn.dynamodbTable('granted') },
      ],
    );
    const call = { TableName: 'granted' };
    const [viaGate, direct] = await Promise.all([
      post(gate.endpoint, 'DynamoDB_20120810.DescribeTable', call, { accessKeyId: fn.accessKeyId }),
      post(dynamo.endpoint, 'DynamoDB_20120810.DescribeTable', call, { accessKeyId: fn.accessKeyId }),
    ]);
    expect(viaGate.status).toBe(direct.status);
    expect(viaGate.headers.get('x-amz-crc32')).toBe(direct.headers.get('x-amz-crc32'));
    expect(viaGate.headers.get('content-type')).toBe(direct.headers.get('content-type'));
    expect(await viaGate.text()).toBe(await direct.text());
  });

  it('refuses a call to another table with AccessDeniedException in AWS wording, and writes nothing', async () => {
    const error = await rejection(asFunction.send(new PutCommand({ TableName: 'other', Item: { pk: 'x' } })));

    expect(error).toBeInstanceOf(DynamoDBServiceException);
    expect(error.name).toBe('AccessDeniedException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toBe(
      accessDeniedMessage({ action: 'dynamodb:PutItem', resource: arn.dynamodbTable('other') }, denied(fn)),
    );
    expect(error.message).toBe(
      'User: arn:aws:sts::000000000000:assumed-role/WriteRecordRole/write-record is not authorized to perform: ' +
        'dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/other ' +
        'because no identity-based policy allows the dynamodb:PutItem action',
    );
    const after = await asAdmin.send(
      new GetCommand({ TableName: 'other', Key: { pk: 'x' }, ConsistentRead: true }),
    );
    expect(after.Item).toBeUndefined();
  });

  it('answers the denial as DynamoDB does: 400, __type com.amazon.coral.service#AccessDeniedException, Message', async () => {
    const response = await post(
      gate.endpoint,
      'DynamoDB_20120810.GetItem',
      { TableName: 'other', Key: { pk: { S: 'x' } } },
      { accessKeyId: fn.accessKeyId },
    );

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(await response.json()).toEqual({
      __type: 'com.amazon.coral.service#AccessDeniedException',
      Message: accessDeniedMessage(
        { action: 'dynamodb:GetItem', resource: arn.dynamodbTable('other') },
        denied(fn),
      ),
    });
  });

  it('judges Query with IndexName on the index ARN: an index grant is not a table grant, nor the reverse', async () => {
    const byOwner = await asFunction.send(
      new QueryCommand({
        TableName: 'indexed',
        IndexName: 'by-owner',
        KeyConditionExpression: '#o = :o',
        ExpressionAttributeNames: { '#o': 'owner' },
        ExpressionAttributeValues: { ':o': 'o1' },
      }),
    );
    const onTable = await rejection(
      asFunction.send(
        new QueryCommand({
          TableName: 'indexed',
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'r1' },
        }),
      ),
    );
    const onIndexOfGrantedTable = await rejection(
      asFunction.send(
        new QueryCommand({
          TableName: 'granted',
          IndexName: 'by-owner',
          KeyConditionExpression: '#o = :o',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':o': 'o1' },
        }),
      ),
    );

    expect(byOwner.Items).toEqual([{ pk: 'r1', owner: 'o1' }]);
    expect(onTable.message).toBe(
      accessDeniedMessage({ action: 'dynamodb:Query', resource: arn.dynamodbTable('indexed') }, denied(fn)),
    );
    expect(onIndexOfGrantedTable.message).toBe(
      accessDeniedMessage(
        { action: 'dynamodb:Query', resource: arn.dynamodbIndex('granted', 'by-owner') },
        denied(fn),
      ),
    );
  });

  it('refuses a BatchWriteItem with one table not granted as a whole: nothing is written to either table', async () => {
    const error = await rejection(
      asFunction.send(
        new BatchWriteCommand({
          RequestItems: {
            granted: [{ PutRequest: { Item: { pk: 'batch-1' } } }],
            other: [{ PutRequest: { Item: { pk: 'batch-1' } } }],
          },
        }),
      ),
    );

    expect(error.message).toBe(
      accessDeniedMessage(
        { action: 'dynamodb:BatchWriteItem', resource: arn.dynamodbTable('other') },
        denied(fn),
      ),
    );
    for (const TableName of ['granted', 'other']) {
      const after = await asAdmin.send(
        new GetCommand({ TableName, Key: { pk: 'batch-1' }, ConsistentRead: true }),
      );
      expect(after.Item, TableName).toBeUndefined();
    }
    await asFunction.send(
      new BatchWriteCommand({ RequestItems: { granted: [{ PutRequest: { Item: { pk: 'batch-2' } } }] } }),
    );
    const granted = await asAdmin.send(new GetCommand({ TableName: 'granted', Key: { pk: 'batch-2' } }));
    expect(granted.Item).toEqual({ pk: 'batch-2' });
  });

  // BatchExecuteStatement, which dynalite lacks, run by the gate (dynamodb-partiql.ts):
  // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchExecuteStatement.html,
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html,
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.insert.html
  const insert = (table: string, pk: string, n: number) => ({
    Statement: `INSERT INTO "${table}" VALUE {'pk': ?, 'n': ?}`,
    Parameters: [pk, n],
  });

  it('runs a batch of PartiQL INSERTs judged as dynamodb:PartiQLInsert once per table; an existing key answers DuplicateItem, the rest are applied', async () => {
    await asAdmin.send(new PutCommand({ TableName: 'granted', Item: { pk: 'pq-taken', n: 0 } }));
    iam.asked.length = 0;
    const answer = await asFunction.send(
      new BatchExecuteStatementCommand({
        Statements: [
          insert('granted', 'pq-1', 1),
          insert('granted', 'pq-taken', 2),
          insert('granted', 'pq-2', 3),
        ],
      }),
    );

    expect(iam.asked.map(({ action, resource }) => ({ action, resource }))).toEqual([
      { action: 'dynamodb:PartiQLInsert', resource: arn.dynamodbTable('granted') },
    ]);
    expect(answer.Responses).toEqual([
      { TableName: 'granted' },
      {
        TableName: 'granted',
        Error: { Code: 'DuplicateItem', Message: 'Duplicate primary key exists in table' },
      },
      { TableName: 'granted' },
    ]);
    const read = async (pk: string) =>
      (await asAdmin.send(new GetCommand({ TableName: 'granted', Key: { pk }, ConsistentRead: true }))).Item;
    expect(await read('pq-1')).toEqual({ pk: 'pq-1', n: 1 });
    expect(await read('pq-2')).toEqual({ pk: 'pq-2', n: 3 });
    expect(await read('pq-taken')).toEqual({ pk: 'pq-taken', n: 0 });
  });

  it('refuses a PartiQL batch naming a table not granted as a whole, writing nothing; PutItem rights alone do not allow it', async () => {
    const error = await rejection(
      asFunction.send(
        new BatchExecuteStatementCommand({
          Statements: [insert('granted', 'pq-3', 1), insert('other', 'pq-3', 1)],
        }),
      ),
    );

    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toBe(
      accessDeniedMessage(
        { action: 'dynamodb:PartiQLInsert', resource: arn.dynamodbTable('other') },
        denied(fn),
      ),
    );
    for (const TableName of ['granted', 'other']) {
      const after = await asAdmin.send(
        new GetCommand({ TableName, Key: { pk: 'pq-3' }, ConsistentRead: true }),
      );
      expect(after.Item, TableName).toBeUndefined();
    }
  });

  it('refuses more than 25 statements, and any statement but INSERT … VALUE with parameters, with a ValidationException before IAM', async () => {
    const tooMany = await rejection(
      asFunction.send(
        new BatchExecuteStatementCommand({
          Statements: Array.from({ length: 26 }, (_, i) => insert('granted', `pq-many-${i}`, i)),
        }),
      ),
    );
    const select = await rejection(
      asFunction.send(
        new BatchExecuteStatementCommand({
          Statements: [{ Statement: `SELECT * FROM "granted" WHERE pk = 'pq-1'` }],
        }),
      ),
    );
    const literal = await rejection(
      asFunction.send(
        new BatchExecuteStatementCommand({
          Statements: [{ Statement: `INSERT INTO "granted" VALUE {'pk': 'pq-lit'}` }],
        }),
      ),
    );

    expect([tooMany.name, select.name, literal.name]).toEqual([
      'ValidationException',
      'ValidationException',
      'ValidationException',
    ]);
    expect(tooMany.message).toContain('Member must have length less than or equal to 25');
    expect(iam.asked).toEqual([]);
    const after = await asAdmin.send(new GetCommand({ TableName: 'granted', Key: { pk: 'pq-lit' } }));
    expect(after.Item).toBeUndefined();
  });

  it('lets an explicit Deny win over the Allow of the same action', async () => {
    await asFunction.send(new PutCommand({ TableName: 'granted', Item: { pk: 'kept' } }));

    const error = await rejection(
      asFunction.send(new DeleteCommand({ TableName: 'granted', Key: { pk: 'kept' } })),
    );

    expect(error.message).toBe(
      accessDeniedMessage(
        { action: 'dynamodb:DeleteItem', resource: arn.dynamodbTable('granted') },
        denied(fn, true),
      ),
    );
    expect(error.message).toContain('with an explicit deny in an identity-based policy');
    const after = await asAdmin.send(new GetCommand({ TableName: 'granted', Key: { pk: 'kept' } }));
    expect(after.Item).toEqual({ pk: 'kept' });
  });

  it('asks about unknown keys and unsigned calls too, and lets them through as the stand-in allows them', async () => {
    await asAdmin.send(new PutCommand({ TableName: 'other', Item: { pk: 'by-admin' } }));
    const unsigned = await post(gate.endpoint, 'DynamoDB_20120810.PutItem', {
      TableName: 'other',
      Item: { pk: { S: 'unsigned' } },
    });

    const read = await asAdmin.send(new GetCommand({ TableName: 'other', Key: { pk: 'by-admin' } }));
    expect(read.Item).toEqual({ pk: 'by-admin' });
    // dynalite answers the unsigned call itself: it went through the gate.
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { __type: string }).__type).toBe(
      'com.amazon.coral.service#MissingAuthenticationTokenException',
    );
    expect(iam.asked.map((request) => request.accessKeyId)).toEqual([
      ADMIN.accessKeyId,
      undefined,
      ADMIN.accessKeyId,
    ]);
  });

  it('asks ListTables on "*" and relays the real table list', async () => {
    const listed = await asFunction.send(new ListTablesCommand({}));

    expect(listed.TableNames).toEqual(['granted', 'indexed', 'other']);
    expect(iam.asked.at(-1)).toMatchObject({ action: 'dynamodb:ListTables', resource: '*' });
  });

  it('answers a call naming no table with DynamoDB’s ValidationException, and never forwards it', async () => {
    const missing = await post(
      gate.endpoint,
      'DynamoDB_20120810.PutItem',
      { Item: {} },
      { accessKeyId: fn.accessKeyId },
    );
    const crafted = await post(
      gate.endpoint,
      'DynamoDB_20120810.PutItem',
      { TableName: 'granted/index/x', Item: { pk: { S: 'y' } } },
      { accessKeyId: fn.accessKeyId },
    );

    expect(await missing.json()).toEqual({
      __type: 'com.amazon.coral.validate#ValidationException',
      message:
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
    });
    expect(crafted.status).toBe(400);
    expect(((await crafted.json()) as { message: string }).message).toContain('regular expression pattern');
    expect(iam.asked).toEqual([]);
  });

  it('refuses what the rules do not classify: another API version, an unknown operation', async () => {
    // dynalite runs DynamoDB_20111205 calls too: forwarding one would skip the judgement.
    const oldApi = await post(
      gate.endpoint,
      'DynamoDB_20111205.PutItem',
      { TableName: 'other', Item: { pk: { S: 'old-api' } } },
      { accessKeyId: fn.accessKeyId },
    );
    const partiql = await post(
      gate.endpoint,
      'DynamoDB_20120810.ExecuteStatement',
      { Statement: 'SELECT * FROM other' },
      { accessKeyId: fn.accessKeyId },
    );

    expect([oldApi.status, partiql.status]).toEqual([400, 400]);
    expect(((await oldApi.json()) as { __type: string }).__type).toBe(
      'com.amazon.coral.service#UnknownOperationException',
    );
    expect(((await partiql.json()) as { message: string }).message).toContain(
      'does not know how AWS authorises DynamoDB ExecuteStatement',
    );
    const after = await asAdmin.send(new GetCommand({ TableName: 'other', Key: { pk: 'old-api' } }));
    expect(after.Item).toBeUndefined();
  });

  it('fails closed with a generic 500 when the IAM stand-in fails, forwarding nothing', async () => {
    iam.state.fail = true;
    const response = await post(
      gate.endpoint,
      'DynamoDB_20120810.PutItem',
      { TableName: 'granted', Item: { pk: { S: 'unjudged' } } },
      { accessKeyId: fn.accessKeyId },
    );
    iam.state.fail = false;

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
      message: 'Internal server error',
    });
    const after = await asAdmin.send(new GetCommand({ TableName: 'granted', Key: { pk: 'unjudged' } }));
    expect(after.Item).toBeUndefined();
  });

  it("answers an expired session's key with ExpiredTokenException, not AccessDenied, writing nothing", async () => {
    iam.state.expired = true;
    const error = await rejection(
      asFunction.send(new PutCommand({ TableName: 'granted', Item: { pk: 'after-expiry' } })),
    ).finally(() => {
      iam.state.expired = false;
    });

    expect(error.name).toBe('ExpiredTokenException');
    expect(error.message).toBe('The security token included in the request is expired');
    const after = await asAdmin.send(new GetCommand({ TableName: 'granted', Key: { pk: 'after-expiry' } }));
    expect(after.Item).toBeUndefined();
  });

  it('stops: its port is closed and so is every kept-alive socket to the engine', async () => {
    // A probe server stands in for the engine only to count the gate's sockets to it.
    const engine = createServer((_request, response) => response.end('{}'));
    engine.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => engine.listen(0, '127.0.0.1', resolve));
    const address = engine.address() as AddressInfo;
    const second = await startIamGate({
      port: 0,
      upstream: `http://127.0.0.1:${address.port}`,
      service: dynamodbRules(),
      authorize: () => ({ allowed: true }),
    });
    const connections = () =>
      new Promise<number>((resolve, reject) =>
        engine.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );
    await (await post(second.endpoint, 'DynamoDB_20120810.ListTables', {})).text();
    expect(await connections()).toBe(1);

    const began = performance.now();
    await second.stop();

    expect(performance.now() - began).toBeLessThan(1_500);
    await expect(fetch(`${second.endpoint}/`, { method: 'POST' })).rejects.toThrow();
    await expect.poll(connections, { timeout: 1_000 }).toBe(0);
    await new Promise<void>((resolve) => engine.close(() => resolve()));
  });
});

describe('the IAM gate in front of cognito-local', () => {
  let dataDir: string;
  let cognito: CognitoHandle;
  let gate: IamGateHandle;
  let iam: ReturnType<typeof recorder>;
  let fn: LocalCredentials;
  let granted: { userPoolId: string; clientId: string };
  let other: { userPoolId: string; clientId: string };
  const clients: CognitoIdentityProviderClient[] = [];

  const client = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
    const made = new CognitoIdentityProviderClient({
      endpoint: gate.endpoint,
      region: LOCAL_REGION,
      credentials,
      maxAttempts: 1,
    });
    clients.push(made);
    return made;
  };
  const usersIn = async (userPoolId: string) => {
    const listed = await client(ADMIN).send(new ListUsersCommand({ UserPoolId: userPoolId }));
    return (listed.Users ?? []).flatMap(
      (user) => user.Attributes?.find((a) => a.Name === 'email')?.Value ?? [],
    );
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tenantry-iam-gate-cognito-'));
    cognito = await startCognito({ dataDir, port: 0, fixedConfirmationCode: '123456' });
    const pool = (poolName: string) =>
      ensureUserPool({ endpoint: cognito.endpoint, poolName, clientName: 'web', groups: [] });
    granted = await pool('gate-granted');
    other = await pool('gate-other');
    const authorizer = createTemplateAuthorizer([
      functionWith([
        {
          Effect: 'Allow',
          Action: ['cognito-idp:AdminCreateUser', 'cognito-idp:ListUsers'],
          Resource: arn.userPool(granted.userPoolId),
        },
      ]),
    ]);
    iam = recorder(authorizer.authorize);
    fn = authorizer.credentialsFor(ENTRY);
    gate = await startIamGate({
      port: 0,
      upstream: cognito.endpoint,
      service: cognitoUserPoolRules(),
      authorize: iam.authorize,
    });
  });

  afterEach(() => {
    iam.asked.length = 0;
  });

  afterAll(async () => {
    for (const made of clients) made.destroy();
    await gate?.stop();
    await cognito?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const createUser = (userPoolId: string, email: string) =>
    client(fn).send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: email,
        UserAttributes: [{ Name: 'email', Value: email }],
        MessageAction: 'SUPPRESS',
      }),
    );

  it('lets AdminCreateUser and ListUsers through on the granted pool, judged on its ARN', async () => {
    const created = await createUser(granted.userPoolId, 'ada@example.com');
    const listed = await client(fn).send(new ListUsersCommand({ UserPoolId: granted.userPoolId }));

    expect(created.User?.Attributes).toContainEqual({ Name: 'email', Value: 'ada@example.com' });
    expect(listed.Users?.map((user) => user.Username)).toContain(created.User?.Username);
    expect(iam.asked.map(({ action, resource }) => ({ action, resource }))).toEqual([
      { action: 'cognito-idp:AdminCreateUser', resource: arn.userPool(granted.userPoolId) },
      { action: 'cognito-idp:ListUsers', resource: arn.userPool(granted.userPoolId) },
    ]);
  });

  it("answers an expired session's key with ExpiredTokenException on an IAM-judged call", async () => {
    iam.state.expired = true;
    const error = await rejection(
      client(fn).send(new ListUsersCommand({ UserPoolId: granted.userPoolId })),
    ).finally(() => {
      iam.state.expired = false;
    });

    expect(error.name).toBe('ExpiredTokenException');
    expect(error.message).toBe('The security token included in the request is expired');
  });

  it('refuses AdminCreateUser and ListUsers on another pool with AccessDeniedException, creating nobody', async () => {
    const create = await rejection(createUser(other.userPoolId, 'eve@example.com'));
    const list = await rejection(client(fn).send(new ListUsersCommand({ UserPoolId: other.userPoolId })));

    expect(create).toBeInstanceOf(CognitoAccessDenied);
    expect(create.$metadata?.httpStatusCode).toBe(400);
    expect(create.message).toBe(
      accessDeniedMessage(
        { action: 'cognito-idp:AdminCreateUser', resource: arn.userPool(other.userPoolId) },
        denied(fn),
      ),
    );
    expect(list).toBeInstanceOf(CognitoAccessDenied);
    expect(list.message).toBe(
      accessDeniedMessage(
        { action: 'cognito-idp:ListUsers', resource: arn.userPool(other.userPoolId) },
        denied(fn),
      ),
    );
    expect(await usersIn(other.userPoolId)).not.toContain('eve@example.com');
  });

  it('passes SignUp, ConfirmSignUp and InitiateAuth untouched: public operations, not IAM-authorised', async () => {
    // https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flows-public-server-side.html#user-pools-API-operations
    // The function holds no grant for them, and signs the raw SignUp with its own key.
    const signUp = await post(
      gate.endpoint,
      'AWSCognitoIdentityProviderService.SignUp',
      { ClientId: other.clientId, Username: 'grace@example.com', Password: PASSWORD },
      { accessKeyId: fn.accessKeyId, contentType: 'application/x-amz-json-1.1' },
    );
    const publicClient = client(fn);
    await publicClient.send(
      new ConfirmSignUpCommand({
        ClientId: other.clientId,
        Username: 'grace@example.com',
        ConfirmationCode: '123456',
      }),
    );
    const signedIn = await publicClient.send(
      new InitiateAuthCommand({
        ClientId: other.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'grace@example.com', PASSWORD },
      }),
    );

    expect(signUp.status).toBe(200);
    expect(((await signUp.json()) as { UserConfirmed: boolean }).UserConfirmed).toBe(false);
    expect(signedIn.AuthenticationResult?.AccessToken).toMatch(/^ey/);
    expect(iam.asked).toEqual([]);
  });

  it('passes the SDK’s unsigned SignUp as well', async () => {
    const signedUp = await client(fn).send(
      new SignUpCommand({ ClientId: granted.clientId, Username: 'linus@example.com', Password: PASSWORD }),
    );

    expect(signedUp.UserSub).toBeTruthy();
    expect(iam.asked).toEqual([]);
  });

  it('refuses an operation it does not classify, and a target outside the service, forwarding neither', async () => {
    const unclassified = await post(
      gate.endpoint,
      'AWSCognitoIdentityProviderService.AdminMakeEveryoneAdmin',
      { UserPoolId: other.userPoolId },
      { accessKeyId: fn.accessKeyId, contentType: 'application/x-amz-json-1.1' },
    );
    // cognito-local runs whatever follows the first dot: this would create the user unjudged.
    const disguised = await post(
      gate.endpoint,
      'Anything.AdminCreateUser',
      { UserPoolId: other.userPoolId, Username: 'mallory@example.com', MessageAction: 'SUPPRESS' },
      { accessKeyId: fn.accessKeyId, contentType: 'application/x-amz-json-1.1' },
    );

    expect(unclassified.status).toBe(400);
    expect(await unclassified.json()).toEqual({
      __type: 'UnknownOperationException',
      message: expect.stringContaining(
        'does not know how AWS authorises Cognito user pools AdminMakeEveryoneAdmin',
      ),
    });
    expect(disguised.status).toBe(400);
    expect(((await disguised.json()) as { __type: string }).__type).toBe('UnknownOperationException');
    expect(await usersIn(other.userPoolId)).not.toContain('mallory@example.com');
  });

  it('answers an IAM-judged call naming no valid pool with InvalidParameterException', async () => {
    const response = await post(
      gate.endpoint,
      'AWSCognitoIdentityProviderService.ListUsers',
      { UserPoolId: '*' },
      { accessKeyId: fn.accessKeyId, contentType: 'application/x-amz-json-1.1' },
    );

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      __type: 'InvalidParameterException',
      message:
        "1 validation error detected: Value '*' at 'userPoolId' failed to satisfy constraint: " +
        'Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+',
    });
    expect(iam.asked).toEqual([]);
  });
});
