import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Claims } from '#shared/domain/caller';

export interface TokenVerifierOptions {
  readonly issuer: string;
  readonly jwksUri: string;
  /** The app client id: an ID token's `aud`. */
  readonly clientId: string;
}

export class InvalidToken extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidToken';
  }
}

/**
 * The library fetches JWKS over https only; the local Cognito serves plain http on loopback.
 * This fetcher allows exactly that and nothing else.
 */
const loopbackFetcher = {
  fetch: async (uri: string): Promise<ArrayBuffer> => {
    const url = new URL(uri);
    if (url.protocol !== 'https:' && url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
      throw new InvalidToken(`Refusing to fetch JWKS over ${url.protocol} from ${url.hostname}`);
    }
    const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    if (!response.ok) throw new InvalidToken(`JWKS fetch failed with ${response.status}`);
    return response.arrayBuffer();
  },
};

/**
 * What API Gateway's JWT authorizer does for the local gateway: verifies the signature against the
 * pool's JWKS (RSA keys only, so `alg: none` and HMAC tricks fail), the issuer, the audience, expiry
 * and not-before, and that the token is an ID token. The pool id of the local Cognito is not an AWS
 * one, so this is the generic `JwtVerifier` with a configured issuer.
 */
export function createTokenVerifier(options: TokenVerifierOptions): (token: string) => Promise<Claims> {
  const verifier = JwtVerifier.create(
    {
      issuer: options.issuer,
      audience: options.clientId,
      jwksUri: options.jwksUri,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'id') throw new InvalidToken('Only ID tokens are accepted');
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: loopbackFetcher }) },
  );
  // API Gateway's authorizer runs outside the function; so that the local gateway's share of a
  // request stays as small, a verified token's claims are kept until the token expires.
  const verified = new Map<string, Claims & { exp?: number }>();
  return async (token: string) => {
    const known = verified.get(token);
    if (known && typeof known.exp === 'number' && known.exp * 1000 > Date.now()) return known;
    try {
      const claims = (await verifier.verify(token)) as unknown as Claims & { exp?: number };
      if (verified.size >= 10_000) verified.clear();
      verified.set(token, claims);
      return claims;
    } catch (error) {
      verified.delete(token);
      throw new InvalidToken(error instanceof Error ? error.message : 'invalid token');
    }
  };
}
