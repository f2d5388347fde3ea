import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * cognito-local signs every token with a key pair it ships (kid `CognitoLocal`): tests use the
 * same private key to forge tokens whose signature is valid but whose claims are wrong, and other
 * keys and algorithms for tokens whose signature is not.
 */
const cognitoLocalKey = JSON.parse(
  readFileSync(require.resolve('cognito-local/lib/keys/cognitoLocal.private.json'), 'utf8'),
) as { pem: string };
const cognitoLocalPublic = JSON.parse(
  readFileSync(require.resolve('cognito-local/lib/keys/cognitoLocal.public.json'), 'utf8'),
) as { pem?: string; jwk: Record<string, string> };

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export type JwtPayload = Record<string, unknown>;

export function decodePayload(token: string): JwtPayload {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as JwtPayload;
}

/** RS256 with cognito-local's own key: a valid signature. */
export function signAsCognitoLocal(payload: JwtPayload, kid = 'CognitoLocal'): string {
  const head = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(payload)}`;
  return `${head}.${sign('RSA-SHA256', Buffer.from(head), cognitoLocalKey.pem).toString('base64url')}`;
}

/** RS256 with a key nobody published, under cognito-local's kid. */
export function signWithForeignKey(payload: JwtPayload): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const head = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'CognitoLocal' })}.${b64(payload)}`;
  return `${head}.${sign('RSA-SHA256', Buffer.from(head), privateKey).toString('base64url')}`;
}

/** `alg: none`, no signature. */
export function unsigned(payload: JwtPayload): string {
  return `${b64({ alg: 'none', typ: 'JWT', kid: 'CognitoLocal' })}.${b64(payload)}.`;
}

/** HS256 keyed with the public key: the classic algorithm-confusion attack. */
export function hmacWithPublicKey(payload: JwtPayload): string {
  const secret = cognitoLocalPublic.pem ?? JSON.stringify(cognitoLocalPublic.jwk);
  const head = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'CognitoLocal' })}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
