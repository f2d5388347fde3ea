/** A user as the identity provider knows them. */
export interface IdentityUser {
  readonly userId: string;
  readonly email: string;
}

/** The identity provider's admin operations (Cognito's Admin* API in AWS and locally). */
export interface IdentityAdmin {
  /** The user signed up or invited with this email, or null. */
  findByEmail(email: string): Promise<IdentityUser | null>;
  /** Creates the user and sends them an invitation with a temporary password. */
  invite(email: string): Promise<IdentityUser>;
}
