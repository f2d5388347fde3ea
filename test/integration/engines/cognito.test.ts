import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  AdminConfirmSignUpCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  ListGroupsCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { JwtVerifier } from 'aws-jwt-verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CognitoHandle,
  ensureUserPool,
  loopbackJwksCache,
  startCognito,
  type UserPoolIds,
} from '#infra/local/engines/cognito';
import { type LambdaInvokeHandle, startLambdaInvokeEndpoint } from '#infra/local/engines/lambda-invoke';

const POOL = {
  poolName: 'tenantry-local',
  clientName: 'tenantry-web',
  groups: ['platform-admin', 'finance'],
};
const PASSWORD = 'Corr3ct-Horse!';

interface TriggerEvent {
  triggerSource: string;
  userName: string;
  userPoolId: string;
  request: { userAttributes: Record<string, string> };
  response: Record<string, unknown>;
}

describe('cognito-local engine', () => {
  let dataDir: string;
  let lambda: LambdaInvokeHandle;
  let cognito: CognitoHandle;
  let pool: UserPoolIds;
  let client: CognitoIdentityProviderClient;
  const events: TriggerEvent[] = [];

  const start = async (port: number) =>
    startCognito({
      dataDir,
      port,
      lambdaEndpoint: lambda.endpoint,
      triggers: { PostConfirmation: 'post-confirmation', PreTokenGeneration: 'pre-token-generation' },
    });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tenantry-cognito-'));
    lambda = await startLambdaInvokeEndpoint({
      port: 0,
      functions: {
        'post-confirmation': async (event) => {
          events.push(event as TriggerEvent);
          return event;
        },
        // V1 pre-token-generation answer: the whole event back with `response` filled in.
        'pre-token-generation': async (event) => {
          events.push(event as TriggerEvent);
          return {
            ...(event as object),
            response: { claimsOverrideDetails: { claimsToAddOrOverride: { tenant_id: 't1' } } },
          };
        },
      },
    });
    cognito = await start(0);
    client = new CognitoIdentityProviderClient({
      endpoint: cognito.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    pool = await ensureUserPool({ endpoint: cognito.endpoint, ...POOL });
  });

  afterAll(async () => {
    client?.destroy();
    await cognito?.stop();
    await lambda?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const logIn = async (email: string) => {
    const result = await client.send(
      new InitiateAuthCommand({
        ClientId: pool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: PASSWORD },
      }),
    );
    const idToken = result.AuthenticationResult?.IdToken;
    if (idToken === undefined) throw new Error('no ID token');
    return idToken;
  };

  it('creates the pool, client and groups once and finds them again', async () => {
    const again = await ensureUserPool({ endpoint: cognito.endpoint, ...POOL });
    expect(again).toEqual(pool);
    expect(pool.issuer).toBe(`${cognito.endpoint}/${pool.userPoolId}`);
    expect(pool.jwksUri).toBe(`${pool.issuer}/.well-known/jwks.json`);
    const groups = await client.send(new ListGroupsCommand({ UserPoolId: pool.userPoolId }));
    expect(groups.Groups?.map((group) => group.GroupName).sort()).toEqual(['finance', 'platform-admin']);
  });

  it('signs up, confirms and logs in; the ID token verifies and carries the trigger claim', async () => {
    const signUp = await client.send(
      new SignUpCommand({
        ClientId: pool.clientId,
        Username: 'alice@example.com',
        Password: PASSWORD,
        UserAttributes: [{ Name: 'custom:tenant_name', Value: 'Acme' }],
      }),
    );
    expect(signUp.UserConfirmed).toBe(false);
    await client.send(
      new AdminConfirmSignUpCommand({ UserPoolId: pool.userPoolId, Username: 'alice@example.com' }),
    );

    const idToken = await logIn('alice@example.com');
    const verifier = JwtVerifier.create(
      { issuer: pool.issuer, audience: pool.clientId, jwksUri: pool.jwksUri },
      { jwksCache: loopbackJwksCache() },
    );
    const claims = await verifier.verify(idToken);
    expect(claims).toMatchObject({
      iss: pool.issuer,
      aud: pool.clientId,
      token_use: 'id',
      email: 'alice@example.com',
      sub: signUp.UserSub,
      'custom:tenant_name': 'Acme',
      tenant_id: 't1',
    });

    const postConfirmation = events.find((event) => event.triggerSource === 'PostConfirmation_ConfirmSignUp');
    expect(postConfirmation).toMatchObject({
      userPoolId: pool.userPoolId,
      userName: signUp.UserSub,
      request: { userAttributes: { email: 'alice@example.com', sub: signUp.UserSub } },
    });
    const preToken = events.find((event) => event.triggerSource === 'TokenGeneration_Authentication');
    expect(preToken).toMatchObject({ response: { claimsOverrideDetails: {} } });
  });

  it('rejects a token checked against another issuer', async () => {
    const idToken = await logIn('alice@example.com');
    const verifier = JwtVerifier.create(
      { issuer: `${cognito.endpoint}/local_other`, audience: pool.clientId, jwksUri: pool.jwksUri },
      { jwksCache: loopbackJwksCache() },
    );
    await expect(verifier.verify(idToken)).rejects.toThrow(/iss/i);
  });

  it('confirms with the code it would have emailed', async () => {
    await client.send(
      new SignUpCommand({ ClientId: pool.clientId, Username: 'bob@example.com', Password: PASSWORD }),
    );
    const code = cognito.lastCode('bob@example.com');
    expect(code).toMatch(/^\d{6}$/);
    await client.send(
      new ConfirmSignUpCommand({
        ClientId: pool.clientId,
        Username: 'bob@example.com',
        ConfirmationCode: code,
      }),
    );
    expect(await logIn('bob@example.com')).toMatch(/^ey/);
  });

  it('keeps users, pool and client across a restart on the same port', async () => {
    const port = cognito.port;
    await cognito.stop();
    cognito = await start(port);
    expect(await ensureUserPool({ endpoint: cognito.endpoint, ...POOL })).toEqual(pool);
    expect(await logIn('alice@example.com')).toMatch(/^ey/);
  });
});
