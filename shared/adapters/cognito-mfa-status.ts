import {
  AdminGetUserCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import type { MfaStatus } from '#shared/identity/platform-mfa';

/**
 * AdminGetUser's `UserMFASettingList`: the MFA options activated for the user (SMS_MFA,
 * SOFTWARE_TOKEN_MFA, EMAIL_OTP); empty or absent means none.
 * https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminGetUser.html
 */
export class CognitoMfaStatus implements MfaStatus {
  constructor(private readonly client: CognitoIdentityProviderClient) {}

  async hasSecondFactor(userPoolId: string, userName: string): Promise<boolean> {
    const user = await this.client.send(
      new AdminGetUserCommand({ UserPoolId: userPoolId, Username: userName }),
    );
    return (user.UserMFASettingList ?? []).length > 0;
  }
}
