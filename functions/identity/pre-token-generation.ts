import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { CognitoMfaStatus } from '#shared/adapters/cognito-mfa-status';
import { services } from '#shared/composition/runtime';
import { logger } from '#shared/core/logger';
import { groupsForToken, type MfaStatus, withGroups } from '#shared/identity/platform-mfa';
import type { PreTokenEvent } from '#shared/identity/pre-token';
import { tenantClaimsForSignIn, withTenantClaims } from '#shared/identity/pre-token';

/** Set by the CDK app (`-c platformMfa=required`): platform groups only for users with a second factor. */
const requireMfa = process.env.PLATFORM_GROUPS_REQUIRE_MFA === 'true';
let mfaStatus: MfaStatus | undefined;

/**
 * Cognito pre-token-generation trigger (V1 and V2 events): adds the active tenant claims, or none
 * when the control database cannot answer in time (sign-in never fails for a hint).
 */
export const handler = async <E extends PreTokenEvent>(event: E): Promise<E> => {
  const userId = event.request.userAttributes.sub;
  const claims = userId ? await tenantClaimsForSignIn(services().activeTenants, userId) : null;
  logger.debug('pre-token-generation', { version: event.version, hasTenant: claims !== null });
  const withClaims = withTenantClaims(event, claims);
  const groups = await groupsForToken(
    event.request.groupConfiguration?.groupsToOverride ?? [],
    requireMfa,
    () => {
      mfaStatus ??= new CognitoMfaStatus(new CognitoIdentityProviderClient({}));
      return mfaStatus.hasSecondFactor(event.userPoolId, event.userName);
    },
  );
  if (groups === null) return withClaims;
  logger.warn('platform groups left out of the token: no second factor', { userId });
  return withGroups(withClaims, groups);
};
