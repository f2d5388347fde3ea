import { describe, expect, it } from 'vitest';
import { readCredentials } from '#infra/local/engines/data-api/credentials';
import { type AccessDecision, EXPIRED_TOKEN_MESSAGE } from '#infra/local/iam/access';
import {
  type AssumeRoleRequest,
  createTemplateAuthorizer,
  StsError,
  type TemplateAuthorizer,
} from '#infra/local/iam/template-authorizer';
import { functionPoliciesOf, rolesOf } from '#infra/local/iam/template-policies';
import {
  ACCOUNT,
  DIRECT_ROLE_ARN,
  ME_ENTRY,
  ROWS_ENTRY,
  TENANT_ACCESS_ROLE_ARN,
  tenantAccessAssembly,
  tenantSecretName,
} from '../support/tenant-access-assembly.ts';

/*
 * AssumeRole in the IAM stand-in, on a hand-made assembly with the tenant-access role.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
 */

function authorizerWithClock() {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const authorizer = createTemplateAuthorizer(functionPoliciesOf(tenantAccessAssembly), {
    roles: rolesOf(tenantAccessAssembly),
    now: () => new Date(clock),
  });
  return { authorizer, advance: (seconds: number) => (clock += seconds * 1000) };
}

const secretArn = (tenantId: string) =>
  `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${tenantSecretName(tenantId)}`;

/** GetSecretValue on a tenant's secret, tagged with its tenant as the provisioning step tags it. */
const readSecret = (authorizer: TemplateAuthorizer, accessKeyId: string, tenantId: string) =>
  authorizer.authorize({
    accessKeyId,
    action: 'secretsmanager:GetSecretValue',
    resource: secretArn(tenantId),
    context: { 'secretsmanager:ResourceTag/tenantry:tenant-id': tenantId },
  }) as AccessDecision;

function refusal(call: () => unknown): StsError {
  try {
    call();
  } catch (error) {
    if (error instanceof StsError) return error;
    throw error;
  }
  throw new Error('expected an StsError');
}

const asTenant = (authorizer: TemplateAuthorizer, tenantId: string, extra: Partial<AssumeRoleRequest> = {}) =>
  authorizer.assumeRole({
    callerAccessKeyId: authorizer.credentialsFor(ROWS_ENTRY).accessKeyId,
    roleArn: TENANT_ACCESS_ROLE_ARN,
    roleSessionName: `tenant-${tenantId}`,
    tags: [{ Key: 'TenantId', Value: tenantId }],
    durationSeconds: 900,
    ...extra,
  });

describe('the roles of the templates', () => {
  it('lists every role with its resolved trust policy, tags and maximum session duration', () => {
    // Arrange / Act
    const roles = rolesOf(tenantAccessAssembly);
    const tenantAccess = roles.find((role) => role.role.arn === TENANT_ACCESS_ROLE_ARN);
    const direct = roles.find((role) => role.role.arn === DIRECT_ROLE_ARN);

    // Assert
    expect(roles.map((role) => role.role.name).sort()).toEqual([
      'DirectTrustRole',
      'MeRole',
      'RowsRole',
      'TenantAccessRole',
    ]);
    expect(tenantAccess?.role.tags).toEqual({ 'tenantry:role': 'tenant-access' });
    expect(tenantAccess?.trustPolicy.Statement[0]?.Principal).toEqual({
      AWS: [`arn:aws:iam::${ACCOUNT}:root`],
    });
    expect(tenantAccess?.maxSessionDuration).toBe(3600);
    expect(direct?.trustPolicy.Statement[0]?.Principal).toEqual({
      AWS: [`arn:aws:iam::${ACCOUNT}:role/MeRole`],
    });
    expect(direct?.maxSessionDuration).toBe(7200);
  });
});

describe('AssumeRole of the tenant-access role', () => {
  it('gives a session that reads its own tenant secret and no other', () => {
    // Arrange
    const { authorizer } = authorizerWithClock();

    // Act
    const assumed = asTenant(authorizer, 't_a');

    // Assert
    const { credentials, assumedRoleUser } = assumed;
    expect(credentials.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(credentials.sessionToken.length).toBeGreaterThan(100);
    expect(credentials.expiration.toISOString()).toBe('2026-01-01T00:15:00.000Z');
    expect(assumedRoleUser.arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/TenantAccessRole/tenant-t_a`);
    expect(assumedRoleUser.assumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:tenant-t_a$/);
    expect(readSecret(authorizer, credentials.accessKeyId, 't_a')).toEqual({ allowed: true });
    expect(readSecret(authorizer, credentials.accessKeyId, 't_b')).toEqual({
      allowed: false,
      principalArn: assumedRoleUser.arn,
      explicit: false,
    });
    // The function's own role reads no tenant secret.
    expect(readSecret(authorizer, authorizer.credentialsFor(ROWS_ENTRY).accessKeyId, 't_a').allowed).toBe(
      false,
    );
    expect(authorizer.callerIdentity(credentials.accessKeyId)).toEqual({
      arn: assumedRoleUser.arn,
      userId: assumedRoleUser.assumedRoleId,
      account: ACCOUNT,
    });
  });

  it('refuses a caller whose identity policy does not allow sts:AssumeRole (the trust names the account)', () => {
    const { authorizer } = authorizerWithClock();
    const me = authorizer.credentialsFor(ME_ENTRY);

    const error = refusal(() =>
      authorizer.assumeRole({
        callerAccessKeyId: me.accessKeyId,
        roleArn: TENANT_ACCESS_ROLE_ARN,
        roleSessionName: 'x1',
      }),
    );

    expect(error.code).toBe('AccessDenied');
    expect(error.status).toBe(403);
    expect(error.message).toBe(
      `User: ${me.sessionArn} is not authorized to perform: sts:AssumeRole on resource: ${TENANT_ACCESS_ROLE_ARN}`,
    );
  });

  it('needs sts:TagSession allowed by the trust policy, with its conditions on the request tags', () => {
    const { authorizer } = authorizerWithClock();
    const rows = authorizer.credentialsFor(ROWS_ENTRY);

    const error = refusal(() => asTenant(authorizer, 'x_not-a-tenant'));

    expect(error.code).toBe('AccessDenied');
    expect(error.message).toBe(
      `User: ${rows.sessionArn} is not authorized to perform: sts:TagSession on resource: ${TENANT_ACCESS_ROLE_ARN}`,
    );
  });

  it('lets a trust policy that names the caller role by ARN stand alone, without an identity grant', () => {
    const { authorizer } = authorizerWithClock();
    const me = authorizer.credentialsFor(ME_ENTRY);

    const assumed = authorizer.assumeRole({
      callerAccessKeyId: me.accessKeyId,
      roleArn: DIRECT_ROLE_ARN,
      roleSessionName: 'direct',
    });

    expect(assumed.assumedRoleUser.arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/DirectTrustRole/direct`);
    // …but only for the role it names.
    const rows = authorizer.credentialsFor(ROWS_ENTRY);
    expect(
      refusal(() =>
        authorizer.assumeRole({
          callerAccessKeyId: rows.accessKeyId,
          roleArn: DIRECT_ROLE_ARN,
          roleSessionName: 'direct',
        }),
      ).code,
    ).toBe('AccessDenied');
  });

  it('answers a role that does not exist with AccessDenied', () => {
    const { authorizer } = authorizerWithClock();
    const rows = authorizer.credentialsFor(ROWS_ENTRY);
    const missing = `arn:aws:iam::${ACCOUNT}:role/NoSuchRole`;

    const error = refusal(() =>
      authorizer.assumeRole({ callerAccessKeyId: rows.accessKeyId, roleArn: missing, roleSessionName: 'x1' }),
    );

    expect([error.code, error.message]).toEqual([
      'AccessDenied',
      `User: ${rows.sessionArn} is not authorized to perform: sts:AssumeRole on resource: ${missing}`,
    ]);
  });

  it('lets an administrator key (no function) assume a role that trusts the account', () => {
    const { authorizer } = authorizerWithClock();

    const assumed = authorizer.assumeRole({
      callerAccessKeyId: 'AKIALOCALADMIN',
      roleArn: TENANT_ACCESS_ROLE_ARN,
      roleSessionName: 'ops',
      tags: [{ Key: 'TenantId', Value: 't_a' }],
      durationSeconds: 3600,
    });

    expect(readSecret(authorizer, assumed.credentials.accessKeyId, 't_a')).toEqual({ allowed: true });
  });
});

describe('the checks of the request', () => {
  const { authorizer } = authorizerWithClock();
  const rows = authorizer.credentialsFor(ROWS_ENTRY);
  const ask = (extra: Partial<AssumeRoleRequest>) =>
    refusal(() =>
      authorizer.assumeRole({
        callerAccessKeyId: rows.accessKeyId,
        roleArn: TENANT_ACCESS_ROLE_ARN,
        roleSessionName: 'valid',
        ...extra,
      }),
    );

  it.each([
    [
      { roleSessionName: 'a' },
      "Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    ],
    [
      { roleSessionName: 'has space' },
      "Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    ],
    [
      { durationSeconds: 899 },
      "Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    ],
    [
      { durationSeconds: 43201 },
      "Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
    ],
    [
      { tags: [{ Key: 'k'.repeat(129), Value: 'v' }] },
      "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128",
    ],
    [
      { tags: [{ Key: 'TenantId', Value: 'v'.repeat(257) }] },
      "at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256",
    ],
    [
      { tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) },
      "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
    ],
  ])('answers ValidationError for %j', (extra, message) => {
    const error = ask(extra);
    expect([error.code, error.status]).toEqual(['ValidationError', 400]);
    expect(error.message).toContain('1 validation error detected: ');
    expect(error.message).toContain(message);
  });

  it('caps a chained session (a function role assuming a role) at one hour', () => {
    const error = ask({ durationSeconds: 3601, tags: [{ Key: 'TenantId', Value: 't_a' }] });
    expect([error.code, error.message]).toEqual([
      'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    ]);
  });

  it("caps a session at the role's MaxSessionDuration", () => {
    const error = refusal(() =>
      authorizer.assumeRole({
        callerAccessKeyId: undefined,
        roleArn: TENANT_ACCESS_ROLE_ARN,
        roleSessionName: 'ops',
        durationSeconds: 7200,
      }),
    );
    expect([error.code, error.message]).toEqual([
      'ValidationError',
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    ]);
  });
});

describe('session tags', () => {
  it('override the role tags of the same key, regardless of case', () => {
    const { authorizer } = authorizerWithClock();
    const assumed = authorizer.assumeRole({
      callerAccessKeyId: undefined,
      roleArn: TENANT_ACCESS_ROLE_ARN,
      roleSessionName: 'ops',
      tags: [
        { Key: 'TENANTRY:ROLE', Value: 'overridden' },
        { Key: 'TenantId', Value: 't_a' },
      ],
    });
    const decision = authorizer.authorize({
      accessKeyId: assumed.credentials.accessKeyId,
      action: 'secretsmanager:GetSecretValue',
      resource: secretArn('t_a'),
      context: { 'secretsmanager:ResourceTag/tenantry:tenant-id': 't_a', 'aws:PrincipalTag/TenantId': 't_b' },
    });
    // The stand-in cannot pass its own principal tags: the session's win.
    expect(decision).toEqual({ allowed: true });
  });

  it('carry their transitive keys into a chained session, which cannot pass them again', () => {
    // Arrange: get-me's role → DirectTrustRole (TenantId transitive) → the tenant-access role.
    const { authorizer } = authorizerWithClock();
    const first = authorizer.assumeRole({
      callerAccessKeyId: authorizer.credentialsFor(ME_ENTRY).accessKeyId,
      roleArn: DIRECT_ROLE_ARN,
      roleSessionName: 'first',
      tags: [{ Key: 'TenantId', Value: 't_a' }],
      transitiveTagKeys: ['TenantId'],
    });

    // Act
    const chained = authorizer.assumeRole({
      callerAccessKeyId: first.credentials.accessKeyId,
      roleArn: TENANT_ACCESS_ROLE_ARN,
      roleSessionName: 'second',
    });

    // Assert
    expect(readSecret(authorizer, chained.credentials.accessKeyId, 't_a')).toEqual({ allowed: true });
    expect(readSecret(authorizer, chained.credentials.accessKeyId, 't_b').allowed).toBe(false);
    const again = refusal(() =>
      authorizer.assumeRole({
        callerAccessKeyId: first.credentials.accessKeyId,
        roleArn: TENANT_ACCESS_ROLE_ARN,
        roleSessionName: 'third',
        tags: [{ Key: 'tenantid', Value: 't_b' }],
      }),
    );
    expect(again.code).toBe('ValidationError');
    // The tenant-access session itself may assume nothing (its policies allow no sts action).
    const onward = refusal(() =>
      authorizer.assumeRole({
        callerAccessKeyId: chained.credentials.accessKeyId,
        roleArn: TENANT_ACCESS_ROLE_ARN,
        roleSessionName: 'fourth',
      }),
    );
    expect(onward.code).toBe('AccessDenied');
  });
});

describe('expired sessions', () => {
  it('are refused as expired by authorize, AssumeRole and GetCallerIdentity', () => {
    const { authorizer, advance } = authorizerWithClock();
    const { credentials, assumedRoleUser } = asTenant(authorizer, 't_a');

    advance(899);
    expect(readSecret(authorizer, credentials.accessKeyId, 't_a')).toEqual({ allowed: true });
    advance(1);

    expect(readSecret(authorizer, credentials.accessKeyId, 't_a')).toEqual({
      allowed: false,
      expired: true,
      principalArn: assumedRoleUser.arn,
    });
    const error = refusal(() => authorizer.callerIdentity(credentials.accessKeyId));
    expect([error.code, error.message]).toEqual(['ExpiredToken', EXPIRED_TOKEN_MESSAGE]);
    expect(
      refusal(() => asTenant(authorizer, 't_a', { callerAccessKeyId: credentials.accessKeyId })).code,
    ).toBe('ExpiredToken');
    // The function's own credentials do not expire.
    expect(refusal(() => asTenant(authorizer, 'x')).code).toBe('AccessDenied');
  });

  it('are answered ExpiredTokenException by the Data API stand-in', async () => {
    const { authorizer, advance } = authorizerWithClock();
    const { credentials } = asTenant(authorizer, 't_a');
    const secrets = {
      lookup: async () => ({
        arn: secretArn('t_a'),
        name: tenantSecretName('t_a'),
        tags: { 'tenantry:tenant-id': 't_a' },
        value: JSON.stringify({ username: 'tenant_a', password: 'p' }),
      }),
    };
    await expect(
      readCredentials(authorizer.authorize, secrets, credentials.accessKeyId, secretArn('t_a')),
    ).resolves.toEqual({
      user: 'tenant_a',
      password: 'p',
    });

    advance(900);

    await expect(
      readCredentials(authorizer.authorize, secrets, credentials.accessKeyId, secretArn('t_a')),
    ).rejects.toMatchObject({
      type: 'ExpiredTokenException',
      status: 403,
      message: EXPIRED_TOKEN_MESSAGE,
    });
  });
});
