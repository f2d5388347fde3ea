import {
  AdminCreateUserCommand,
  type AttributeType,
  type CognitoIdentityProviderClient,
  ListUsersCommand,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import type { IdentityAdmin, IdentityUser } from '#shared/ports/identity-admin';

const attribute = (attributes: AttributeType[] | undefined, name: string) =>
  attributes?.find((a) => a.Name === name)?.Value;

/**
 * The identity port on the Cognito user pool's admin API. The same code runs against the local
 * Cognito (the SDK finds it through `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`).
 */
export class CognitoIdentityAdmin implements IdentityAdmin {
  constructor(
    private readonly client: CognitoIdentityProviderClient,
    private readonly userPoolId: string,
  ) {}

  async findByEmail(email: string): Promise<IdentityUser | null> {
    // The email was validated by zod (no quotes), so it is safe inside the filter's quotes.
    const result = await this.client.send(
      new ListUsersCommand({ UserPoolId: this.userPoolId, Filter: `email = "${email}"`, Limit: 1 }),
    );
    const user = result.Users?.[0];
    const userId = attribute(user?.Attributes, 'sub');
    return userId ? { userId, email: attribute(user?.Attributes, 'email') ?? email } : null;
  }

  async invite(email: string): Promise<IdentityUser> {
    try {
      const result = await this.client.send(
        new AdminCreateUserCommand({
          UserPoolId: this.userPoolId,
          Username: email,
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
          ],
          DesiredDeliveryMediums: ['EMAIL'],
        }),
      );
      const userId = attribute(result.User?.Attributes, 'sub');
      if (!userId) throw new Error('AdminCreateUser returned no sub');
      return { userId, email };
    } catch (error) {
      // Signed up between our lookup and this call: link that user instead.
      if (error instanceof UsernameExistsException) {
        const existing = await this.findByEmail(email);
        if (existing) return existing;
      }
      throw error;
    }
  }
}
