/** The tenant claims a token carries: the active tenant and the caller's role in it. */
export interface ActiveTenantClaims {
  readonly tenantId: string;
  readonly role: string;
}

/** Where the pre-token-generation trigger finds the signed-in user's active tenant and role. */
export interface ActiveTenantSource {
  activeTenantOf(userId: string): Promise<ActiveTenantClaims | null>;
}
