import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessDeniedMessage } from '#infra/local/iam/access';
import {
  type Caller,
  guardedArchive,
  guardedBackupStore,
  guardedDeadLetters,
  guardedWorkflows,
  ServiceAccessDenied,
} from '#infra/local/iam/in-process';
import { generatedPhysicalNames, localPhysicalNames } from '#infra/local/iam/local-names';
import { parsePolicyDocument } from '#infra/local/iam/policy-document';
import { createTemplateAuthorizer } from '#infra/local/iam/template-authorizer';
import type { FunctionPolicies } from '#infra/local/iam/template-policies';
import { FileBackupStore } from '#shared/adapters/file-backup-store';
import { FileDeadLetterSink } from '#shared/adapters/file-dead-letter';
import { FileExportArchive } from '#shared/adapters/file-export-archive';
import { linesToCsv } from '#shared/exports/export-lines';
import type { ArchivedExport } from '#shared/ports/export-archive';
import type { WorkflowExecution, WorkflowStarter } from '#shared/ports/workflows';

/*
 * The in-process services of the local platform ask the IAM stand-in as the AWS adapters' calls
 * would be asked, and refuse as the SDK would throw: Step Functions AccessDeniedException (400),
 * S3 AccessDenied (403), SQS AccessDenied (403).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (missing key: ListBucket decides)
 */

const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:tenantry-local-provisioning';
const BUCKET = 'tenantry-local-finance-exports';
const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:tenantry-local-telemetry-dead-letter';
const KEY_ID = '0000b4c0-0000-4000-8000-00000000b4c0';
const KEY_ARN = `arn:aws:kms:us-east-1:000000000000:key/${KEY_ID}`;
const TENANT = 't_abcdefghijklmnopqrst';
const OTHER_TENANT = 't_bcdefghijklmnopqrstu';
const VIA_S3 = { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } };

function fn(entry: string, statements: unknown[]): FunctionPolicies {
  return {
    entry,
    stack: 'Api',
    functionLogicalId: `${entry.replace(/\W/g, '')}Fn`,
    functionName: entry.replace(/\W/g, '-'),
    role: { stack: 'Api', logicalId: 'Role', name: `${entry.replace(/\W/g, '')}Role`, arn: 'arn', tags: {} },
    policies: [
      {
        name: 'Policy',
        source: 'Api/Policy',
        document: parsePolicyDocument({ Version: '2012-10-17', Statement: statements }),
      },
    ],
    unresolved: [],
    environmentKeys: [],
  };
}

const authorizer = createTemplateAuthorizer([
  fn('starter', [{ Effect: 'Allow', Action: 'states:StartExecution', Resource: MACHINE }]),
  fn('watcher', [
    {
      Effect: 'Allow',
      Action: ['states:DescribeExecution', 'states:GetExecutionHistory'],
      Resource: MACHINE.replace(':stateMachine:', ':execution:').concat(':*'),
    },
  ]),
  fn('reader', [
    { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/usage-exports/*` },
  ]),
  fn('lister', [
    { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/usage-exports/*` },
    {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: `arn:aws:s3:::${BUCKET}`,
      Condition: { StringLikeIfExists: { 's3:prefix': ['usage-exports/*'] } },
    },
  ]),
  fn('prefix-only', [
    { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/usage-exports/*` },
    {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: `arn:aws:s3:::${BUCKET}`,
      Condition: { StringLike: { 's3:prefix': ['usage-exports/*'] } },
    },
  ]),
  fn('writer', [
    {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: `arn:aws:s3:::${BUCKET}/usage-exports/*`,
    },
  ]),
  fn('sender', [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE }]),
  // As grantBackupStore grants (infra/constructs/bucket-grants.ts).
  fn('backups', [
    {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: `arn:aws:s3:::${BUCKET}`,
      Condition: { StringLikeIfExists: { 's3:prefix': ['backups/*'] } },
    },
    {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: `arn:aws:s3:::${BUCKET}/backups/*`,
    },
    { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: KEY_ARN, Condition: VIA_S3 },
  ]),
  // The same objects, without the key.
  fn('backups-no-key', [
    {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: `arn:aws:s3:::${BUCKET}/backups/*`,
    },
  ]),
  // One tenant's prefix only, with the key.
  fn('one-tenant', [
    {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: `arn:aws:s3:::${BUCKET}/backups/${TENANT}/*`,
    },
    { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: KEY_ARN, Condition: VIA_S3 },
  ]),
]);

const caller = (entry: string): Caller => ({
  authorize: authorizer.authorize,
  accessKeyId: authorizer.credentialsFor(entry).accessKeyId,
});

/** The refusal thrown by `work`, with its name, HTTP status and AWS's message. */
async function refusal(work: () => Promise<unknown>) {
  const error = await work().then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ServiceAccessDenied);
  const denied = error as ServiceAccessDenied;
  return { name: denied.name, status: denied.$metadata.httpStatusCode, message: denied.message };
}

class RecordingStarter implements WorkflowStarter {
  readonly started: string[] = [];
  async start(name: string) {
    this.started.push(name);
    return { executionId: `${MACHINE.replace(':stateMachine:', ':execution:')}:${name}` };
  }
  async describe(): Promise<WorkflowExecution | null> {
    return null;
  }
}

describe('the workflow starter asks states:StartExecution and the execution reads', () => {
  it('starts for a function granted StartExecution on the machine', async () => {
    const inner = new RecordingStarter();
    await guardedWorkflows(inner, caller('starter'), MACHINE).start('t_1-a1', {});
    expect(inner.started).toEqual(['t_1-a1']);
  });

  it('refuses anyone else, with Step Functions AccessDeniedException and nothing started', async () => {
    const inner = new RecordingStarter();
    const denied = await refusal(() =>
      guardedWorkflows(inner, caller('watcher'), MACHINE).start('t_1-a1', {}),
    );
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.status).toBe(400);
    expect(denied.message).toBe(
      accessDeniedMessage(
        { action: 'states:StartExecution', resource: MACHINE },
        {
          allowed: false,
          principalArn: authorizer.credentialsFor('watcher').sessionArn,
          explicit: false,
        },
      ),
    );
    expect(inner.started).toEqual([]);
  });

  it('describes for DescribeExecution + GetExecutionHistory on the execution, not for StartExecution alone', async () => {
    await expect(
      guardedWorkflows(new RecordingStarter(), caller('watcher'), MACHINE).describe('x'),
    ).resolves.toBeNull();
    const denied = await refusal(() =>
      guardedWorkflows(new RecordingStarter(), caller('starter'), MACHINE).describe('x'),
    );
    expect(denied.message).toContain(
      'states:DescribeExecution on resource: arn:aws:states:us-east-1:000000000000:execution:tenantry-local-provisioning:x',
    );
  });
});

describe('the exports archive asks as S3 would', () => {
  let dir: string;
  const month: ArchivedExport = {
    month: '2026-10',
    csv: linesToCsv([]),
    lines: [],
    closedAt: '2026-11-01T00:00:00.000Z',
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-guarded-archive-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes with s3:PutObject and refuses a reader with S3 AccessDenied (403), writing nothing', async () => {
    const denied = await refusal(() =>
      guardedArchive(new FileExportArchive(dir), caller('reader'), BUCKET).put(month),
    );
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(denied.message).toContain(
      `s3:PutObject on resource: arn:aws:s3:::${BUCKET}/usage-exports/2026-10.csv`,
    );
    await expect(new FileExportArchive(dir).get('2026-10')).resolves.toBeNull();
    await expect(
      guardedArchive(new FileExportArchive(dir), caller('writer'), BUCKET).put(month),
    ).resolves.toBe(true);
  });

  it('reads an archived month with s3:GetObject alone', async () => {
    const found = await guardedArchive(new FileExportArchive(dir), caller('reader'), BUCKET).get('2026-10');
    expect(found?.csv).toBe(linesToCsv([]));
  });

  it('answers a missing month with null only with s3:ListBucket, else AccessDenied (as S3 answers 403 for NoSuchKey)', async () => {
    const denied = await refusal(() =>
      guardedArchive(new FileExportArchive(dir), caller('reader'), BUCKET).get('1999-01'),
    );
    expect(denied.message).toContain(`s3:ListBucket on resource: arn:aws:s3:::${BUCKET}`);
    await expect(
      guardedArchive(new FileExportArchive(dir), caller('lister'), BUCKET).get('1999-01'),
    ).resolves.toBeNull();
  });

  it('treats that check as no list request: a ListBucket grant conditioned on s3:prefix does not cover it', async () => {
    const denied = await refusal(() =>
      guardedArchive(new FileExportArchive(dir), caller('prefix-only'), BUCKET).get('1999-01'),
    );
    expect(denied.message).toContain(`s3:ListBucket on resource: arn:aws:s3:::${BUCKET}`);
  });

  it('lists with s3:ListBucket under the exports prefix', async () => {
    await expect(
      guardedArchive(new FileExportArchive(dir), caller('prefix-only'), BUCKET).list(),
    ).resolves.toHaveLength(1);
    const denied = await refusal(() =>
      guardedArchive(new FileExportArchive(dir), caller('reader'), BUCKET).list(),
    );
    expect(denied.message).toContain('s3:ListBucket');
  });
});

describe('the backup store asks S3 and KMS as S3BackupStore would', () => {
  let dir: string;
  const store = (entry: string) =>
    guardedBackupStore(new FileBackupStore(dir), caller(entry), BUCKET, KEY_ARN);
  const body = new TextEncoder().encode('{"a":1}\n');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-guarded-backups-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes with s3:PutObject under backups/<tenant>/ and kms:GenerateDataKey via S3, and refuses without the key, writing nothing', async () => {
    const denied = await refusal(() => store('backups-no-key').put(TENANT, 'b_1/manifest.json', body));
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(denied.message).toContain(`kms:GenerateDataKey on resource: ${KEY_ARN}`);
    await expect(new FileBackupStore(dir).get(TENANT, 'b_1/manifest.json')).resolves.toBeNull();
    await store('backups').put(TENANT, 'b_1/manifest.json', body);
    await expect(new FileBackupStore(dir).get(TENANT, 'b_1/manifest.json')).resolves.toEqual(
      Buffer.from(body),
    );
  });

  it('reads with s3:GetObject and kms:Decrypt; a missing key is null only with s3:ListBucket', async () => {
    await expect(store('backups').get(TENANT, 'b_1/manifest.json')).resolves.toEqual(Buffer.from(body));
    const noKey = await refusal(() => store('backups-no-key').get(TENANT, 'b_1/manifest.json'));
    expect(noKey.message).toContain(`kms:Decrypt on resource: ${KEY_ARN}`);
    await expect(store('backups').get(TENANT, 'b_2/manifest.json')).resolves.toBeNull();
    const unlisted = await refusal(() => store('one-tenant').get(TENANT, 'b_2/manifest.json'));
    expect(unlisted.message).toContain(`s3:ListBucket on resource: arn:aws:s3:::${BUCKET}`);
  });

  it("keeps a grant on one tenant's prefix to that tenant", async () => {
    await store('one-tenant').put(TENANT, 'b_3/x.json', body);
    const denied = await refusal(() => store('one-tenant').put(OTHER_TENANT, 'b_3/x.json', body));
    expect(denied.message).toContain(
      `s3:PutObject on resource: arn:aws:s3:::${BUCKET}/backups/${OTHER_TENANT}/b_3/x.json`,
    );
  });

  it('lists with s3:ListBucket on backups/<tenant>/<prefix> and deletes with s3:DeleteObject per key', async () => {
    await expect(store('backups').list(TENANT, 'b_1/')).resolves.toEqual([
      { key: 'b_1/manifest.json', bytes: body.length },
    ]);
    const unlisted = await refusal(() => store('one-tenant').list(TENANT, 'b_1/'));
    expect(unlisted.message).toContain('s3:ListBucket');
    const undeletable = await refusal(() => store('reader').delete(TENANT, ['b_1/manifest.json']));
    expect(undeletable.message).toContain(
      `s3:DeleteObject on resource: arn:aws:s3:::${BUCKET}/backups/${TENANT}/b_1/manifest.json`,
    );
    await expect(store('backups').list(TENANT, 'b_1/')).resolves.toHaveLength(1);
    await store('backups').delete(TENANT, ['b_1/manifest.json']);
    await expect(store('backups').list(TENANT, 'b_1/')).resolves.toEqual([]);
  });
});

describe('the telemetry dead-letter file asks sqs:SendMessage on the queue', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-guarded-dlq-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes for the sender and refuses others with SQS AccessDenied (403), writing nothing', async () => {
    const file = path.join(dir, 'dlq.jsonl');
    const denied = await refusal(() =>
      guardedDeadLetters(new FileDeadLetterSink(file), caller('reader'), QUEUE).write({
        reason: 'r',
        failed: [],
      }),
    );
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
    await guardedDeadLetters(new FileDeadLetterSink(file), caller('sender'), QUEUE).write({
      reason: 'r',
      failed: [],
    });
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});

describe('the names the local platform gives what the templates leave unnamed', () => {
  const scope = { accountId: '000000000000', region: 'us-east-1' };
  const resolve = localPhysicalNames(scope, {
    auditTable: 'tenantry-local-audit',
    usageTable: 'tenantry-local-usage',
    limitsTable: 'tenantry-local-limits',
    userPoolId: 'local_abc',
    masterSecretArn:
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:tenantry/local/cluster/master-AbCdEf',
    controlSecretArn:
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:tenantry/local/cluster/control-app-GhIjKl',
    poolSecretArn:
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:tenantry/local/cluster/pool-app-MnOpQr',
    exportsBucket: BUCKET,
    telemetryDeadLetterQueue: 'tenantry-local-telemetry-dead-letter',
    backupsKeyId: KEY_ID,
  });

  it.each([
    [
      { type: 'AWS::DynamoDB::Table', logicalId: 'AuditTableB07F8EEB', attribute: 'Arn' },
      'arn:aws:dynamodb:us-east-1:000000000000:table/tenantry-local-audit',
    ],
    [{ type: 'AWS::DynamoDB::Table', logicalId: 'UsageTable28300137' }, 'tenantry-local-usage'],
    [
      { type: 'AWS::Cognito::UserPool', logicalId: 'UserPool6BA7E5F2', attribute: 'Arn' },
      'arn:aws:cognito-idp:us-east-1:000000000000:userpool/local_abc',
    ],
    [{ type: 'AWS::Cognito::UserPool', logicalId: 'UserPool6BA7E5F2' }, 'local_abc'],
    [
      { type: 'AWS::RDS::DBCluster', logicalId: 'DatabaseB269D8BB', attribute: 'MasterUserSecret.SecretArn' },
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:tenantry/local/cluster/master-AbCdEf',
    ],
    [
      { type: 'AWS::S3::Bucket', logicalId: 'FinanceExportsBucket72706D70', attribute: 'Arn' },
      `arn:aws:s3:::${BUCKET}`,
    ],
    [{ type: 'AWS::SQS::Queue', logicalId: 'TelemetryDeadLetterQueue8EE991FD', attribute: 'Arn' }, QUEUE],
    [{ type: 'AWS::KMS::Key', logicalId: 'BackupsKey9F3C5B21', attribute: 'Arn' }, KEY_ARN],
    [{ type: 'AWS::KMS::Key', logicalId: 'BackupsKey9F3C5B21' }, KEY_ID],
  ])('%o → %s', (ref, expected) => {
    expect(resolve({ stack: 'S', ...ref })).toBe(expected);
  });

  it('leaves other resources to the template, and names the rest as CloudFormation would, without its random suffix', () => {
    expect(
      resolve({ stack: 'S', type: 'AWS::DynamoDB::Table', logicalId: 'OrdersTable1234ABCD' }),
    ).toBeUndefined();
    expect(
      resolve({ stack: 'S', type: 'AWS::SQS::Queue', logicalId: 'TelemetryDeadLetterQueueX' }),
    ).toBeUndefined();
    const generated = generatedPhysicalNames(scope);
    expect(
      generated({
        stack: 'Tenantry-local-Events',
        type: 'AWS::SQS::Queue',
        logicalId: 'FailedQ1A2B3C4D',
        attribute: 'Arn',
      }),
    ).toBe('arn:aws:sqs:us-east-1:000000000000:Tenantry-local-Events-FailedQ1A2B3C4D');
    expect(generated({ stack: 'S', type: 'AWS::DynamoDB::Table', logicalId: 'T' })).toBeUndefined();
  });
});
