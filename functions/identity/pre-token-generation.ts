import { composed } from '#shared/composition/handler';
import type { Services } from '#shared/composition/services';
import { logger } from '#shared/core/logger';
import type { PreTokenEvent } from '#shared/identity/pre-token';
import { tenantClaimsForSignIn, withTenantClaims } from '#shared/identity/pre-token';

/**
 * Cognito pre-token-generation trigger (V1 and V2 events): adds the active tenant claims, or none
 * when the control database cannot answer in time (sign-in never fails for a hint).
 */
async function addTenantClaims<E extends PreTokenEvent>(event: E, services: Services): Promise<E> {
  const userId = event.request.userAttributes.sub;
  const claims = userId ? await tenantClaimsForSignIn(services.activeTenants, userId) : null;
  logger.debug('pre-token-generation', { version: event.version, hasTenant: claims !== null });
  return withTenantClaims(event, claims);
}

export const handler = composed(
  (services: Services) =>
    <E extends PreTokenEvent>(event: E): Promise<E> =>
      addTenantClaims(event, services),
);
