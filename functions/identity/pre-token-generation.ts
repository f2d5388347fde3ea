import { composed } from '#shared/composition/handler';
import type { Services } from '#shared/composition/services';
import { logger } from '#shared/core/logger';
import { groupsForToken, withGroups } from '#shared/identity/platform-mfa';
import type { PreTokenEvent } from '#shared/identity/pre-token';
import {
  isSignIn,
  recordSignInWithin,
  tenantClaimsForSignIn,
  withTenantClaims,
} from '#shared/identity/pre-token';

/**
 * Cognito pre-token-generation trigger (V1 and V2 events): records a sign-in's time, adds the
 * active tenant claims, or none when the control database cannot answer in time (sign-in never
 * fails for a hint); with the MFA
 * setting on (`-c platformMfa=required`), platform groups only for users with a second factor.
 */
async function addTenantClaims<E extends PreTokenEvent>(event: E, services: Services): Promise<E> {
  const userId = event.request.userAttributes.sub;
  const [claims] = await Promise.all([
    userId ? tenantClaimsForSignIn(services.activeTenants, userId) : null,
    // The compliance report's `lastSignInAt` (docs/compliance.md), alongside the claims' lookup.
    userId && isSignIn(event.triggerSource) ? recordSignInWithin(services.users, userId, new Date()) : false,
  ]);
  logger.debug('pre-token-generation', { version: event.version, hasTenant: claims !== null });
  const withClaims = withTenantClaims(event, claims);
  const groups = await groupsForToken(
    event.request.groupConfiguration?.groupsToOverride ?? [],
    services.settings.platformGroupsRequireMfa === true,
    () => services.mfaStatus.hasSecondFactor(event.userPoolId, event.userName),
  );
  if (groups === null) return withClaims;
  logger.warn('platform groups left out of the token: no second factor', { userId });
  return withGroups(withClaims, groups);
}

export const handler = composed(
  (services: Services) =>
    <E extends PreTokenEvent>(event: E): Promise<E> =>
      addTenantClaims(event, services),
);
