import * as z from 'zod';
import { type PlatformGroup, platformGroupSchema } from '#shared/domain/permissions';
import { Unauthenticated } from '#shared/errors';

/** Who is calling: derived only from the claims of a verified JWT. */
export interface Caller {
  readonly userId: string;
  readonly email: string;
  /**
   * The identity provider has verified that the caller owns `email` (the `email_verified` claim).
   * What proves who an invitation is for: an unverified email is only what someone typed.
   */
  readonly emailVerified: boolean;
  readonly groups: readonly PlatformGroup[];
  /** The active tenant the token was issued for (informational: access is checked in the control DB). */
  readonly activeTenantId: string | null;
}

/** Claim names the pre-token-generation trigger adds. Kept short: tokens travel on every request. */
export const TENANT_CLAIMS = { tenantId: 'tenantry:tenant_id', role: 'tenantry:role' } as const;

type ClaimValue = string | number | boolean | string[];
export type Claims = Record<string, ClaimValue | undefined>;

/**
 * API Gateway's JWT authorizer flattens array claims into `"[a b]"`; the local gateway passes them
 * as arrays. Both become a list.
 */
function claimList(value: ClaimValue | undefined): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  const text = String(value).trim();
  const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return inner.split(/[\s,]+/).filter(Boolean);
}

const requiredClaims = z.object({
  sub: z.string().min(1),
  email: z.string().min(3),
  // We accept ID tokens only: they carry email and the tenant claims in both V1 and V2 triggers.
  token_use: z.literal('id'),
});

export function callerFromClaims(claims: Claims | undefined): Caller {
  const parsed = requiredClaims.safeParse(claims ?? {});
  if (!parsed.success || !claims) throw new Unauthenticated('A valid ID token is required');
  const groups = claimList(claims['cognito:groups']).flatMap((group) => {
    const known = platformGroupSchema.safeParse(group);
    return known.success ? [known.data] : [];
  });
  const activeTenant = claims[TENANT_CLAIMS.tenantId];
  // Cognito puts a boolean in the token; API Gateway's authorizer hands every claim on as text.
  const verified = claims.email_verified;
  return {
    userId: parsed.data.sub,
    email: parsed.data.email,
    emailVerified: verified === true || verified === 'true',
    groups,
    activeTenantId: typeof activeTenant === 'string' && activeTenant.length > 0 ? activeTenant : null,
  };
}
