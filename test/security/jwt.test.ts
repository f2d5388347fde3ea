import { beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import {
  decodePayload,
  hmacWithPublicKey,
  type JwtPayload,
  signAsCognitoLocal,
  signWithForeignKey,
  unsigned,
} from '../support/jwt-forge.ts';

/**
 * The JWT negative suite, against the local gateway (API Gateway's JWT authorizer stand-in): every
 * bad token gets API Gateway's bare 401 and no handler runs (a handler's answers always carry
 * `x-request-id` and an `error` object).
 */
describe('JWT verification at the gateway', () => {
  const client = new LocalClient(inject('platform'));
  let valid: JwtPayload;
  let validToken: string;

  beforeAll(async () => {
    const email = `jwt-${Date.now()}@example.com`;
    await client.signUp(email, 'Correct-Horse-42!');
    validToken = (await client.logIn(email, 'Correct-Horse-42!')).idToken;
    valid = decodePayload(validToken);
  });

  const now = () => Math.floor(Date.now() / 1000);

  const expectRejected = async (token: string) => {
    const response = await client.call('GET', '/me', { token });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ message: 'Unauthorized' });
    expect(response.headers.get('x-request-id')).toBeNull();
  };

  it('accepts the genuine ID token, and the same claims re-signed with the pool key', async () => {
    const genuine = await client.call('GET', '/me', { token: validToken });
    const resigned = await client.call('GET', '/me', { token: signAsCognitoLocal(valid) });
    expect(genuine.status).toBe(200);
    expect(resigned.status).toBe(200);
    expect((resigned.body as { userId: string }).userId).toBe(valid.sub);
  });

  it.each([
    ['no token', () => ''],
    ['a token that is not a JWT', () => 'not-a-jwt'],
    ['alg none', () => unsigned(valid)],
    ['HS256 signed with the public key', () => hmacWithPublicKey(valid)],
    ['a key that is not the pool key', () => signWithForeignKey(valid)],
    ['an unknown kid', () => signAsCognitoLocal(valid, 'not-a-known-kid')],
    [
      'a tampered payload',
      () => {
        const [head, , signature] = validToken.split('.');
        const payload = Buffer.from(JSON.stringify({ ...valid, sub: 'someone-else' })).toString('base64url');
        return `${head}.${payload}.${signature}`;
      },
    ],
    ['a wrong issuer', () => signAsCognitoLocal({ ...valid, iss: 'http://127.0.0.1:1/local_evil' })],
    ['a wrong client (audience)', () => signAsCognitoLocal({ ...valid, aud: 'another-client' })],
    ['an expired token', () => signAsCognitoLocal({ ...valid, iat: now() - 7200, exp: now() - 3600 })],
    ['a token not yet valid', () => signAsCognitoLocal({ ...valid, nbf: now() + 3600 })],
    ['an access token', () => signAsCognitoLocal({ ...valid, token_use: 'access' })],
  ])('rejects %s with 401 before any handler runs', async (_, forge) => {
    await expectRejected(forge());
  });

  it('rejects a bearer scheme other than Bearer', async () => {
    const response = await client.call('GET', '/me', { headers: { authorization: `Basic ${validToken}` } });
    expect(response.status).toBe(401);
  });
});
