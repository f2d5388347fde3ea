import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  type STSServiceException,
} from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SecretsManagerHandle, startSecretsManager } from '#infra/local/engines/secrets-manager';
import { type StsHandle, startSts } from '#infra/local/engines/sts';
import { EXPIRED_TOKEN_MESSAGE } from '#infra/local/iam/access';
import { createTemplateAuthorizer, type LocalCredentials } from '#infra/local/iam/template-authorizer';
import { functionPoliciesOf, rolesOf } from '#infra/local/iam/template-policies';
import {
  ACCOUNT,
  ME_ENTRY,
  ROWS_ENTRY,
  TENANT_ACCESS_ROLE_ARN,
  tenantAccessAssembly,
  tenantSecretName,
} from '../../support/tenant-access-assembly.ts';

/*
 * The STS stand-in on the wire, with the real STSClient, and the credentials it hands out used on
 * the real Secrets Manager stand-in: a session tagged TenantId=t_a reads t_a's secret and is
 * denied t_b's. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */

const REGION = 'us-east-1';
let clock = Date.now();
const authorizer = createTemplateAuthorizer(functionPoliciesOf(tenantAccessAssembly), {
  roles: rolesOf(tenantAccessAssembly),
  now: () => new Date(clock),
});
let sts: StsHandle;
let secrets: SecretsManagerHandle;
let dataDir: string;
const clients: { destroy(): void }[] = [];

function stsAs(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  const client = new STSClient({ region: REGION, endpoint: sts.endpoint, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
}

function secretsAs(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  const client = new SecretsManagerClient({
    region: REGION,
    endpoint: secrets.endpoint,
    credentials,
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
}

async function failure(promise: Promise<unknown>): Promise<STSServiceException & { Code?: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error as STSServiceException;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const assumeTenant = (
  fn: LocalCredentials,
  tenantId: string,
  extra: Partial<AssumeRoleCommand['input']> = {},
) =>
  stsAs(fn).send(
    new AssumeRoleCommand({
      RoleArn: TENANT_ACCESS_ROLE_ARN,
      RoleSessionName: `tenant-${tenantId}`,
      DurationSeconds: 900,
      Tags: [{ Key: 'TenantId', Value: tenantId }],
      ...extra,
    }),
  );

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tenantry-sts-'));
  sts = await startSts({ port: 0, decisions: authorizer });
  secrets = await startSecretsManager({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    authorize: authorizer.authorize,
  });
  const admin = secretsAs({ accessKeyId: 'AKIALOCALADMIN', secretAccessKey: 'local' });
  for (const tenantId of ['t_a', 't_b']) {
    await admin.send(
      new CreateSecretCommand({
        Name: tenantSecretName(tenantId),
        SecretString: JSON.stringify({ username: tenantId, password: 'p' }),
        Tags: [{ Key: 'tenantry:tenant-id', Value: tenantId }],
      }),
    );
  }
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await sts?.stop();
  await secrets?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('AssumeRole on the wire', () => {
  it("gives a tenant session that reads its own secret and is denied another tenant's", async () => {
    // Arrange
    const rows = authorizer.credentialsFor(ROWS_ENTRY);

    // Act
    const assumed = await assumeTenant(rows, 't_a');

    // Assert
    const { Credentials, AssumedRoleUser } = assumed;
    expect(AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/TenantAccessRole/tenant-t_a`);
    expect(AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:tenant-t_a$/);
    expect(Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(Credentials?.Expiration).toBeInstanceOf(Date);
    expect(Math.abs((Credentials?.Expiration?.getTime() ?? 0) - (clock + 900_000))).toBeLessThan(1_000);
    const session = {
      accessKeyId: Credentials?.AccessKeyId ?? '',
      secretAccessKey: Credentials?.SecretAccessKey ?? '',
      sessionToken: Credentials?.SessionToken ?? '',
    };
    const identity = await stsAs(session).send(new GetCallerIdentityCommand({}));
    expect([identity.Arn, identity.UserId, identity.Account]).toEqual([
      AssumedRoleUser?.Arn,
      AssumedRoleUser?.AssumedRoleId,
      ACCOUNT,
    ]);
    const own = await secretsAs(session).send(
      new GetSecretValueCommand({ SecretId: tenantSecretName('t_a') }),
    );
    expect(JSON.parse(own.SecretString ?? '{}')).toMatchObject({ username: 't_a' });
    const other = await failure(
      secretsAs(session).send(new GetSecretValueCommand({ SecretId: tenantSecretName('t_b') })),
    );
    expect(other.name).toBe('AccessDeniedException');
    expect(other.message).toBe(
      `User: ${AssumedRoleUser?.Arn} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${tenantSecretName('t_b')} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
    );
    // The function's own role reads neither.
    expect(
      (await failure(secretsAs(rows).send(new GetSecretValueCommand({ SecretId: tenantSecretName('t_a') }))))
        .name,
    ).toBe('AccessDeniedException');
  });

  it('answers AccessDenied (403) to a function whose role may not assume the role', async () => {
    const me = authorizer.credentialsFor(ME_ENTRY);

    const error = await failure(assumeTenant(me, 't_a'));

    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.$fault).toBe('client');
    expect(error.message).toBe(
      `User: ${me.sessionArn} is not authorized to perform: sts:AssumeRole on resource: ${TENANT_ACCESS_ROLE_ARN}`,
    );
  });

  it('answers AccessDenied when the trust policy refuses the session tags (sts:TagSession)', async () => {
    const rows = authorizer.credentialsFor(ROWS_ENTRY);

    const error = await failure(assumeTenant(rows, 'not-a-tenant'));

    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
    expect(error.message).toContain('not authorized to perform: sts:TagSession on resource:');
  });

  it('answers AccessDenied for a role that does not exist', async () => {
    const rows = authorizer.credentialsFor(ROWS_ENTRY);
    const missing = `arn:aws:iam::${ACCOUNT}:role/NoSuchRole`;

    const error = await failure(assumeTenant(rows, 't_a', { RoleArn: missing }));

    expect(error.name).toBe('AccessDenied');
    expect(error.message).toBe(
      `User: ${rows.sessionArn} is not authorized to perform: sts:AssumeRole on resource: ${missing}`,
    );
  });

  it('answers ValidationError (400) for input out of range', async () => {
    const rows = authorizer.credentialsFor(ROWS_ENTRY);

    const name = await failure(assumeTenant(rows, 't_a', { RoleSessionName: 'x' }));
    const duration = await failure(assumeTenant(rows, 't_a', { DurationSeconds: 7200 }));

    expect([name.name, name.$metadata.httpStatusCode]).toEqual(['ValidationError', 400]);
    expect(name.message).toBe(
      "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    );
    expect([duration.name, duration.message]).toEqual([
      'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    ]);
  });

  it('refuses an expired session everywhere: ExpiredToken from STS, ExpiredTokenException from Secrets Manager', async () => {
    // Arrange
    const assumed = await assumeTenant(authorizer.credentialsFor(ROWS_ENTRY), 't_a');
    const session = {
      accessKeyId: assumed.Credentials?.AccessKeyId ?? '',
      secretAccessKey: assumed.Credentials?.SecretAccessKey ?? '',
      sessionToken: assumed.Credentials?.SessionToken ?? '',
    };

    // Act
    clock += 901_000;

    // Assert
    const fromSts = await failure(stsAs(session).send(new GetCallerIdentityCommand({})));
    expect([fromSts.name, fromSts.message]).toEqual(['ExpiredToken', EXPIRED_TOKEN_MESSAGE]);
    const fromSecrets = await failure(
      secretsAs(session).send(new GetSecretValueCommand({ SecretId: tenantSecretName('t_a') })),
    );
    expect([fromSecrets.name, fromSecrets.message, fromSecrets.$metadata.httpStatusCode]).toEqual([
      'ExpiredTokenException',
      EXPIRED_TOKEN_MESSAGE,
      403,
    ]);
  });
});
