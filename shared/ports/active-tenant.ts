import type { ActiveTenantClaims } from '#shared/identity/pre-token';

/** Where the pre-token-generation trigger finds the signed-in user's active tenant and role. */
export interface ActiveTenantSource {
  activeTenantOf(userId: string): Promise<ActiveTenantClaims | null>;
}
