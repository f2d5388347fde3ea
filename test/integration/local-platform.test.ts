import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { FailedInvocationRecord } from '#infra/local/async-invoke';
import { LocalClient } from '#infra/local/client';
import type { PlatformInfo } from '#infra/local/platform-info';
import { auditPartition } from '#shared/records/audit-store';
import { eventually } from '../support/actors.ts';
import { PORT_NAMES, startPlatformProcess } from '../support/platform-process.ts';

const run = promisify(execFile);
const password = 'Correct-Horse-42!';

const aws = (info: PlatformInfo) => ({
  region: info.region,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

async function auditItems(info: PlatformInfo, tenantId: string) {
  const client = new DynamoDBClient({ ...aws(info), endpoint: info.endpoints.dynamodb });
  try {
    const result = await client.send(
      new QueryCommand({
        TableName: info.tables.audit,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: auditPartition(tenantId) } },
      }),
    );
    return result.Items ?? [];
  } finally {
    client.destroy();
  }
}

/** `Invoke` with `InvocationType: Event` on the platform's Lambda endpoint, as a schedule or a redrive does. */
async function invokeAsync(info: PlatformInfo, functionName: string, payload: unknown) {
  const lambda = new LambdaClient({ ...aws(info), endpoint: info.endpoints.lambda, maxAttempts: 1 });
  try {
    return await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
  } finally {
    lambda.destroy();
  }
}

/** The on-failure records of one function so far, [] before its file exists. */
async function failedInvocations(info: PlatformInfo, functionName: string) {
  const file = path.join(info.failedInvocationsDir, `${functionName}.jsonl`);
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as FailedInvocationRecord);
}

async function publishAudit(info: PlatformInfo, tenantId: string, action: string) {
  const client = new EventBridgeClient({ ...aws(info), endpoint: info.endpoints.eventBridge });
  try {
    return await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: info.eventBusName,
            Source: 'tenantry.api',
            DetailType: 'Audit Record',
            Detail: JSON.stringify({
              tenantId,
              userId: 'user-1',
              action,
              resource: `/tenants/${tenantId}`,
              outcome: 'success',
              statusCode: 200,
              requestId: 'req-1',
              at: new Date().toISOString(),
            }),
          },
        ],
      }),
    );
  } finally {
    client.destroy();
  }
}

describe('the local platform (booted once for the run)', () => {
  const info = inject('platform');
  const client = new LocalClient(info);

  it('serves health and the OpenAPI document without a token', async () => {
    const health = await client.call('GET', '/health');
    const openapi = await client.call('GET', '/openapi.json');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', stage: 'local' } });
    expect((openapi.body as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('signs up, logs in with the Cognito API and answers GET /me as that user', async () => {
    const email = `me-${Date.now()}@example.com`;
    const userId = await client.signUp(email, password);
    const { idToken } = await client.logIn(email, password);

    const me = await client.call('GET', '/me', { token: idToken });

    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ userId, email, groups: [], memberships: [] });
  });

  it('answers 404 for an unknown path and 405 for a known path with another method', async () => {
    expect((await client.call('GET', '/nope')).status).toBe(404);
    expect((await client.call('DELETE', '/health')).status).toBe(405);
  });

  it('delivers an event published with the EventBridge API to its consumer, once', async () => {
    const tenantId = `t-${Date.now()}`;
    const result = await publishAudit(info, tenantId, 'tenant.update');
    expect(result.FailedEntryCount).toBe(0);

    const items = await eventually(
      () => auditItems(info, tenantId),
      (found) => found.length > 0,
    );

    expect(items).toHaveLength(1);
    expect(items[0]?.action?.S).toBe('tenant.update');
    expect(items[0]?.eventId?.S).toBe(result.Entries?.[0]?.EventId);
  });

  it('names its failure files in platform.json: the rule dead-letter file and the on-failure destinations', () => {
    expect(info.deadLetterFile).toBe(path.join(info.stateDir, 'events-dead-letter.jsonl'));
    expect(info.failedInvocationsDir).toBe(path.join(info.stateDir, 'failed-invocations'));
  });

  it("retries a scheduled job that fails when invoked asynchronously, then records it in the job's own failed invocations (0600)", async () => {
    // Arrange: the month close refuses a month that is not YYYY-MM, on every attempt.
    const functionName = 'tenantry-local-exports-close-month';
    const payload = { month: `not-a-month-${Date.now()}` };
    // Act
    const accepted = await invokeAsync(info, functionName, payload);
    const records = await eventually(
      () => failedInvocations(info, functionName),
      (found) => found.some((record) => (record.requestPayload as typeof payload).month === payload.month),
    );
    // Assert
    expect(accepted.StatusCode).toBe(202);
    const mine = records.filter(
      (record) => (record.requestPayload as typeof payload).month === payload.month,
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      requestContext: {
        functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: payload,
      responseContext: { functionError: 'Unhandled' },
    });
    expect(mine[0]?.responsePayload.errorMessage).toMatch(/month/);
    const file = path.join(info.failedInvocationsDir, `${functionName}.jsonl`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('invokes the records consumer on its thread as its event source mapping does, answering its partial batch response', async () => {
    // Arrange: an SQS batch of one request's records and a message the consumer refuses.
    const tenantId = `t-batch-${Date.now()}`;
    const at = new Date().toISOString();
    const record = (event: object) => ({
      messageId: `m-${Math.random().toString(36).slice(2)}`,
      receiptHandle: 'r',
      body: JSON.stringify(event),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:records',
      awsRegion: 'us-east-1',
    });
    const envelope = { version: '0', account: '000000000000', time: at, region: 'local', resources: [] };
    const good = record({
      ...envelope,
      id: `request-${Date.now()}`,
      'detail-type': 'Request Recorded',
      source: 'tenantry.api',
      detail: {
        requestId: 'req-batch',
        audit: {
          tenantId,
          userId: 'user-1',
          action: 'tenant.update',
          resource: `/tenants/${tenantId}`,
          outcome: 'success',
          statusCode: 200,
          requestId: 'req-batch',
          at,
        },
        metric: { tenantId, operationId: 'patchTenant', statusCode: 200, latencyMs: 3, at },
      },
    });
    const poison = record({
      ...envelope,
      id: 'poison',
      'detail-type': 'Usage Recorded',
      source: 'tenantry.usage',
      detail: {},
    });
    const lambda = new LambdaClient({ ...aws(info), endpoint: info.endpoints.lambda, maxAttempts: 1 });
    // Act
    const answer = await lambda
      .send(
        new InvokeCommand({
          FunctionName: 'tenantry-local-events-record-telemetry',
          Payload: Buffer.from(JSON.stringify({ Records: [good, poison] })),
        }),
      )
      .finally(() => lambda.destroy());
    // Assert: a success whose payload names the poison message; the rest of the batch is recorded.
    expect(answer.StatusCode).toBe(200);
    expect(answer.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(answer.Payload ?? []).toString('utf8'))).toEqual({
      batchItemFailures: [{ itemIdentifier: poison.messageId }],
    });
    const items = await auditItems(info, tenantId);
    expect(items).toHaveLength(1);
    expect(items[0]?.eventId?.S).toBe(JSON.parse(good.body).id);
  });

  it('rejects an event that is not in the catalog or does not match its schema', async () => {
    const events = new EventBridgeClient({ ...aws(info), endpoint: info.endpoints.eventBridge });
    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: info.eventBusName, Source: 'tenantry.api', DetailType: 'Made Up', Detail: '{}' },
          {
            EventBusName: info.eventBusName,
            Source: 'tenantry.api',
            DetailType: 'Audit Record',
            Detail: '{"x":1}',
          },
        ],
      }),
    );
    events.destroy();
    expect(result.FailedEntryCount).toBe(2);
    expect(result.Entries?.map((e) => e.ErrorCode)).toEqual(['InvalidArgument', 'MalformedDetail']);
  });
});

describe('the local platform lifecycle (its own state folder)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('keeps users and data across a restart, and `npm run reset` removes them', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'tenantry-lifecycle-'));
    dirs.push(stateDir);
    const email = 'restart@example.com';
    const tenantId = 't-restart';

    // Arrange: a user and an audit record.
    const first = await startPlatformProcess(stateDir);
    const firstClient = new LocalClient(first.info);
    await firstClient.signUp(email, password);
    await publishAudit(first.info, tenantId, 'rows.insert');
    await eventually(
      () => auditItems(first.info, tenantId),
      (found) => found.length > 0,
    );
    firstClient.close();
    await first.stop();
    // A clean stop (SIGTERM, as Ctrl-C) removes the endpoints file: nothing claims to be running.
    await expect(stat(path.join(stateDir, 'platform.json'))).rejects.toThrow();

    // Act + Assert: after a restart both are there.
    const second = await startPlatformProcess(stateDir);
    const secondClient = new LocalClient(second.info);
    const { idToken } = await secondClient.logIn(email, password);
    expect((await secondClient.call('GET', '/me', { token: idToken })).status).toBe(200);
    expect(await auditItems(second.info, tenantId)).toHaveLength(1);
    secondClient.close();

    // Reset refuses while the platform runs, then wipes the state.
    await expect(
      run(process.execPath, ['--import', 'tsx', 'infra/local/reset.ts', '--state-dir', stateDir]),
    ).rejects.toThrow(/still running/);
    await second.stop();
    const { stdout } = await run(process.execPath, [
      '--import',
      'tsx',
      'infra/local/reset.ts',
      '--state-dir',
      stateDir,
    ]);
    expect(stdout).toMatch(/Removed/);
    await expect(stat(stateDir)).rejects.toThrow();

    const third = await startPlatformProcess(stateDir);
    const thirdClient = new LocalClient(third.info);
    const loginAfterReset = await thirdClient.logIn(email, password).catch((error: unknown) => error);
    expect(loginAfterReset).toBeInstanceOf(CognitoIdentityProviderServiceException);
    expect(await auditItems(third.info, tenantId)).toHaveLength(0);
    thirdClient.close();
    await third.stop();

    // Nothing keeps running on this state folder once stopped.
    const { stdout: processes } = await run('ps', ['-eo', 'args']);
    expect(processes.split('\n').filter((line) => line.includes(stateDir))).toEqual([]);
  }, 120_000);

  it('`npm run reset` refuses a folder that is not a platform state folder, and deletes nothing', async () => {
    const stranger = await mkdtemp(path.join(tmpdir(), 'tenantry-not-state-'));
    dirs.push(stranger);
    await writeFile(path.join(stranger, 'precious.txt'), 'keep me');

    const refused = await run(process.execPath, [
      '--import',
      'tsx',
      'infra/local/reset.ts',
      '--state-dir',
      stranger,
    ]).catch((error: { code: number; stderr: string }) => error);

    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toMatch(/not a Tenantry state folder/);
    expect(await readFile(path.join(stranger, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it.each(['api', 'dynamodb'])(
    'exits with a clear message when the %s port is busy, and leaves nothing running',
    async (busy) => {
      const stateDir = await mkdtemp(path.join(tmpdir(), 'tenantry-busy-'));
      dirs.push(stateDir);
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const port = (blocker.address() as { port: number }).port;
      const ports = PORT_NAMES.flatMap((name) => [`--${name}-port`, name === busy ? String(port) : '0']);
      try {
        const failure = await run(process.execPath, [
          '--import',
          'tsx',
          'infra/local/start.ts',
          '--state-dir',
          stateDir,
          ...ports,
        ]).catch((error: { code: number; stderr: string }) => error);
        expect(failure).toMatchObject({ code: 1 });
        expect((failure as { stderr: string }).stderr).toMatch(new RegExp(`port ${port}`));
        // Whatever had started was stopped again: no endpoints file, no server on this folder.
        await expect(readFile(path.join(stateDir, 'platform.json'))).rejects.toThrow();
        const { stdout: processes } = await run('ps', ['-eo', 'args']);
        expect(processes.split('\n').filter((line) => line.includes(stateDir))).toEqual([]);
      } finally {
        blocker.close();
      }
    },
    60_000,
  );
});
