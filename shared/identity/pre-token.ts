import type { PreTokenGenerationTriggerEvent, PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { TENANT_CLAIMS } from '#shared/domain/caller';
import type { ActiveTenantClaims } from '#shared/ports/active-tenant';

export type PreTokenEvent = PreTokenGenerationTriggerEvent | PreTokenGenerationV2TriggerEvent;

/**
 * Adds the tenant claims to the ID token in either trigger format: V1 (what cognito-local sends,
 * and AWS's default) writes `claimsOverrideDetails`, V2 writes `claimsAndScopeOverrideDetails`.
 * Only the ID token gets them: it is the token the API accepts, and V1 cannot touch access tokens.
 * Two short claims keep the token small; authorisation never relies on them (the control DB does).
 */
export function withTenantClaims<E extends PreTokenEvent>(event: E, claims: ActiveTenantClaims | null): E {
  const add: Record<string, string> = claims
    ? { [TENANT_CLAIMS.tenantId]: claims.tenantId, [TENANT_CLAIMS.role]: claims.role }
    : {};
  if (event.version === '2') {
    const v2 = event as PreTokenGenerationV2TriggerEvent;
    v2.response = {
      claimsAndScopeOverrideDetails: { idTokenGeneration: { claimsToAddOrOverride: add } },
    };
    return event;
  }
  const v1 = event as PreTokenGenerationTriggerEvent;
  v1.response = { claimsOverrideDetails: { claimsToAddOrOverride: add } };
  return event;
}
