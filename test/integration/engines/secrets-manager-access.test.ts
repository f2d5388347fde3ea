import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  ListSecretsCommand,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EngineStartFailed } from '#infra/local/engines/errors';
import { startSecretsManager } from '#infra/local/engines/secrets-manager';
import {
  type AccessDecision,
  type AccessRequest,
  type Authorize,
  accessDeniedMessage,
  allowAll,
} from '#infra/local/iam/access';
import { ARN_PREFIX, type StandIn, sdkError, startStandIn } from '../../support/secrets-manager.ts';

// The IAM hook of the Secrets Manager stand-in and its wire protocol (AWS JSON 1.1).
// Condition keys per action: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
// AccessDeniedException, HTTP 400: https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html
// Denial wording: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html

const ROLE = 'arn:aws:sts::000000000000:assumed-role/TenantRole/fn';
const implicitDeny: AccessDecision = { allowed: false, principalArn: ROLE, explicit: false };

/** An IAM stand-in for the test: records every question, answers with `decide` (allow by default). */
function recorder() {
  const asked: AccessRequest[] = [];
  let decide: Authorize = allowAll;
  const authorize: Authorize = (request) => {
    asked.push(request);
    return decide(request);
  };
  return {
    asked,
    authorize,
    set: (next: Authorize) => {
      decide = next;
    },
  };
}

describe('the IAM question before every operation', () => {
  const iam = recorder();
  let sm: StandIn;
  beforeAll(async () => {
    sm = await startStandIn({ authorize: iam.authorize, accessKeyId: 'ASIATENANTKEY' });
  });
  afterAll(async () => {
    await sm.close();
  });
  afterEach(() => {
    iam.set(allowAll);
    iam.asked.length = 0;
  });

  it('asks CreateSecret and, for tags, TagResource on the new ARN with the request tags and name', async () => {
    const created = await sm.client.send(
      new CreateSecretCommand({
        Name: 'iam/tagged',
        SecretString: 'v',
        Description: 'd',
        Tags: [{ Key: 'TenantId', Value: 't1' }],
      }),
    );

    expect(iam.asked.map((request) => request.action)).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:TagResource',
    ]);
    for (const request of iam.asked) {
      expect(request.accessKeyId).toBe('ASIATENANTKEY');
      expect(request.resource).toBe(created.ARN);
      expect(request.context).toEqual({
        'secretsmanager:Name': 'iam/tagged',
        'secretsmanager:Description': 'd',
        'aws:RequestTag/TenantId': 't1',
        'aws:TagKeys': ['TenantId'],
      });
    }
  });

  it('asks about an existing secret by its full ARN, with its tags under both condition-key names', async () => {
    const { ARN } = await sm.client.send(
      new CreateSecretCommand({
        Name: 'iam/existing',
        SecretString: 'v',
        Tags: [{ Key: 'TenantId', Value: 't2' }],
      }),
    );
    iam.asked.length = 0;

    await sm.client.send(new GetSecretValueCommand({ SecretId: 'iam/existing', VersionStage: 'AWSCURRENT' }));

    expect(iam.asked).toEqual([
      {
        accessKeyId: 'ASIATENANTKEY',
        action: 'secretsmanager:GetSecretValue',
        resource: ARN,
        context: {
          'secretsmanager:SecretId': ARN,
          'secretsmanager:SecretPrimaryRegion': 'us-east-1',
          'secretsmanager:ResourceTag/TenantId': 't2',
          'aws:ResourceTag/TenantId': 't2',
          'secretsmanager:VersionStage': 'AWSCURRENT',
        },
      },
    ]);
  });

  it('asks ListSecrets on "*", and DeleteSecret with its recovery parameters', async () => {
    await sm.client.send(new ListSecretsCommand({}));
    await sm.client.send(new DeleteSecretCommand({ SecretId: 'iam/none', ForceDeleteWithoutRecovery: true }));

    expect(iam.asked[0]).toMatchObject({ action: 'secretsmanager:ListSecrets', resource: '*' });
    expect(iam.asked[0]?.context).toEqual({});
    expect(iam.asked[1]).toMatchObject({
      action: 'secretsmanager:DeleteSecret',
      resource: `${ARN_PREFIX}iam/none`,
      context: { 'secretsmanager:ForceDeleteWithoutRecovery': 'true' },
    });
  });

  it('answers a denial with AccessDeniedException in IAM wording, and does nothing', async () => {
    iam.set(() => implicitDeny);

    const error = await sdkError(
      sm.client.send(new CreateSecretCommand({ Name: 'iam/denied', SecretString: 'v' })),
    );

    expect(error).toBeInstanceOf(SecretsManagerServiceException);
    expect(error.name).toBe('AccessDeniedException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe(
      accessDeniedMessage({ action: 'secretsmanager:CreateSecret', resource: 'iam/denied' }, implicitDeny),
    );
    expect(error.message).toBe(
      `User: ${ROLE} is not authorized to perform: secretsmanager:CreateSecret on resource: iam/denied because no identity-based policy allows the secretsmanager:CreateSecret action`,
    );
    iam.set(allowAll);
    expect(
      await sdkError(sm.client.send(new GetSecretValueCommand({ SecretId: 'iam/denied' }))),
    ).toBeInstanceOf(ResourceNotFoundException);
  });

  it('words an explicit deny as IAM does, naming the resource as the request did', async () => {
    const { ARN } = await sm.client.send(
      new CreateSecretCommand({ Name: 'iam/explicit', SecretString: 'v' }),
    );
    const explicit: AccessDecision = { allowed: false, principalArn: ROLE, explicit: true };
    iam.set(() => explicit);

    const error = await sdkError(sm.client.send(new GetSecretValueCommand({ SecretId: ARN })));

    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toBe(
      `User: ${ROLE} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${ARN} with an explicit deny in an identity-based policy`,
    );
  });

  it('denies a tenant secret to CreateSecret with tags when TagResource is refused, creating nothing', async () => {
    iam.set((request) =>
      request.action === 'secretsmanager:TagResource' ? implicitDeny : { allowed: true },
    );

    const error = await sdkError(
      sm.client.send(
        new CreateSecretCommand({
          Name: 'iam/no-tagging',
          SecretString: 'v',
          Tags: [{ Key: 'k', Value: 'v' }],
        }),
      ),
    );

    expect(error.message).toContain('secretsmanager:TagResource on resource: iam/no-tagging');
    iam.set(allowAll);
    expect(
      await sdkError(sm.client.send(new GetSecretValueCommand({ SecretId: 'iam/no-tagging' }))),
    ).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('a policy that allows GetSecretValue only on secrets tagged TenantId (ABAC)', () => {
  // IAM decides before Secrets Manager looks the secret up; a missing secret has no tags, so the
  // condition does not match: AccessDeniedException, not ResourceNotFoundException.
  // https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access-abac.html
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
  const tenantTagOnly: Authorize = (request) =>
    request.action !== 'secretsmanager:GetSecretValue' ||
    request.context['secretsmanager:ResourceTag/TenantId'] !== undefined
      ? { allowed: true }
      : implicitDeny;
  let sm: StandIn;
  beforeAll(async () => {
    sm = await startStandIn({ authorize: tenantTagOnly });
    await sm.client.send(
      new CreateSecretCommand({
        Name: 'abac/tagged',
        SecretString: 'tenant-pw',
        Tags: [{ Key: 'TenantId', Value: 't1' }],
      }),
    );
    await sm.client.send(new CreateSecretCommand({ Name: 'abac/untagged', SecretString: 'other-pw' }));
  });
  afterAll(async () => {
    await sm.close();
  });

  it('answers AccessDeniedException for a secret that does not exist', async () => {
    const error = await sdkError(sm.client.send(new GetSecretValueCommand({ SecretId: 'abac/missing' })));

    expect(error.name).toBe('AccessDeniedException');
    expect(error).not.toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe(
      accessDeniedMessage(
        { action: 'secretsmanager:GetSecretValue', resource: 'abac/missing' },
        implicitDeny,
      ),
    );
  });

  it('returns the value of the tagged secret and refuses the untagged one', async () => {
    const tagged = await sm.client.send(new GetSecretValueCommand({ SecretId: 'abac/tagged' }));
    const untagged = await sdkError(sm.client.send(new GetSecretValueCommand({ SecretId: 'abac/untagged' })));

    expect(tagged.SecretString).toBe('tenant-pw');
    expect(untagged.name).toBe('AccessDeniedException');
  });
});

describe('the wire protocol (AWS JSON 1.1) and the handle', () => {
  let sm: StandIn;
  let fail = false;
  const asked: AccessRequest[] = [];
  beforeAll(async () => {
    sm = await startStandIn({
      authorize: (request) => {
        asked.push(request);
        if (fail) throw new Error('policy store unreachable');
        return { allowed: true };
      },
    });
  });
  afterAll(async () => {
    await sm.close();
  });
  const post = (target: string | undefined, body: string) =>
    fetch(`${sm.handle.endpoint}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        ...(target === undefined ? {} : { 'x-amz-target': target }),
      },
      body,
    });

  it('answers errors as 400 with __type, Message and x-amzn-ErrorType', async () => {
    const response = await post('secretsmanager.GetSecretValue', '{"SecretId":"wire/none"}');

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(response.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await response.json()).toEqual({
      __type: 'ResourceNotFoundException',
      Message: "Secrets Manager can't find the specified secret.",
    });
  });

  it('refuses an unknown operation, a body that is not JSON, and a missing required member', async () => {
    const unknown = await post('secretsmanager.RotateSecret', '{}');
    const garbled = await post('secretsmanager.ListSecrets', '{not json');
    const missing = await post('secretsmanager.GetSecretValue', '{}');

    expect([unknown.status, garbled.status, missing.status]).toEqual([400, 400, 400]);
    expect(((await unknown.json()) as { __type: string }).__type).toBe('UnknownOperationException');
    expect(((await garbled.json()) as { __type: string }).__type).toBe('SerializationException');
    expect(await missing.json()).toEqual({
      __type: 'ValidationException',
      Message:
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
    });
  });

  it('asks IAM with no access key for an unsigned request', async () => {
    asked.length = 0;

    await post('secretsmanager.ListSecrets', '{}');

    expect(asked[0]?.accessKeyId).toBeUndefined();
  });

  it('fails closed with a generic InternalServiceError when the IAM stand-in throws', async () => {
    fail = true;
    const error = await sdkError(sm.client.send(new ListSecretsCommand({})));
    fail = false;

    expect(error).toBeInstanceOf(InternalServiceError);
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(error.message).toBe('An error occurred on the server side.');
    expect(error.message).not.toContain('policy store');
  });

  it('looks a secret up in process by ARN, partial ARN or name, and not once it is scheduled for deletion', async () => {
    const { ARN } = await sm.client.send(
      new CreateSecretCommand({
        Name: 'lookup/db',
        SecretString: '{"u":"t"}',
        Tags: [{ Key: 'TenantId', Value: 't3' }],
      }),
    );
    const expected = { arn: ARN, name: 'lookup/db', tags: { TenantId: 't3' }, value: '{"u":"t"}' };

    for (const id of [ARN ?? '', `${ARN_PREFIX}lookup/db`, 'lookup/db'])
      expect(await sm.handle.lookup(id)).toEqual(expected);
    expect(await sm.handle.lookup('lookup/none')).toBeNull();
    await sm.client.send(new DeleteSecretCommand({ SecretId: 'lookup/db' }));
    expect(await sm.handle.lookup('lookup/db')).toBeNull();
  });

  it('listens on loopback only', async () => {
    await expect(
      startSecretsManager({ dataDir: sm.dataDir, host: '0.0.0.0', port: 0 }),
    ).rejects.toBeInstanceOf(EngineStartFailed);
  });
});
