import { services } from '#shared/composition/runtime';
import { logger } from '#shared/core/logger';
import type { PreTokenEvent } from '#shared/identity/pre-token';
import { withTenantClaims } from '#shared/identity/pre-token';

/** Cognito pre-token-generation trigger (V1 and V2 events): adds the active tenant claims. */
export const handler = async <E extends PreTokenEvent>(event: E): Promise<E> => {
  const userId = event.request.userAttributes.sub;
  const claims = userId ? await services().activeTenants.activeTenantOf(userId) : null;
  logger.debug('pre-token-generation', { version: event.version, hasTenant: claims !== null });
  return withTenantClaims(event, claims);
};
