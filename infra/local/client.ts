import {
  AdminAddUserToGroupCommand,
  AdminConfirmSignUpCommand,
  AdminDeleteUserAttributesCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { PlatformInfo } from './platform-info.ts';

export interface Tokens {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
}

/**
 * What a person (or a test) does against the local platform: sign up, confirm, log in and call
 * the API, with the real Cognito API client.
 */
export class LocalClient {
  readonly #cognito: CognitoIdentityProviderClient;

  constructor(readonly info: PlatformInfo) {
    this.#cognito = new CognitoIdentityProviderClient({
      region: info.region,
      endpoint: info.endpoints.cognito,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  /**
   * Signs up and confirms (locally there is no email to read the code from). Confirming with the
   * emailed code also verifies the email in Cognito; the admin confirmation does not, so the email
   * is marked verified here, as the code would have.
   */
  async signUp(email: string, password: string, attributes: Record<string, string> = {}): Promise<string> {
    const result = await this.#cognito.send(
      new SignUpCommand({
        ClientId: this.info.clientId,
        Username: email,
        Password: password,
        UserAttributes: [
          { Name: 'email', Value: email },
          ...Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
        ],
      }),
    );
    await this.#cognito.send(
      new AdminConfirmSignUpCommand({ UserPoolId: this.info.userPoolId, Username: email }),
    );
    await this.setEmailVerified(email, true);
    return result.UserSub ?? '';
  }

  /** Marks the user's email verified or not (as confirming a code, or changing the email, would). */
  async setEmailVerified(email: string, verified: boolean): Promise<void> {
    if (!verified) {
      // cognito-local turns the text "false" into a true claim; without the attribute it says false.
      await this.#cognito.send(
        new AdminDeleteUserAttributesCommand({
          UserPoolId: this.info.userPoolId,
          Username: email,
          UserAttributeNames: ['email_verified'],
        }),
      );
      return;
    }
    await this.#cognito.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: this.info.userPoolId,
        Username: email,
        // cognito-local wants the email with its flag (Cognito itself takes the flag alone).
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: String(verified) },
        ],
      }),
    );
  }

  async addToGroup(email: string, group: 'platform-admin' | 'finance'): Promise<void> {
    await this.#cognito.send(
      new AdminAddUserToGroupCommand({ UserPoolId: this.info.userPoolId, Username: email, GroupName: group }),
    );
  }

  async logIn(email: string, password: string): Promise<Tokens> {
    const result = await this.#cognito.send(
      new InitiateAuthCommand({
        ClientId: this.info.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    const auth = result.AuthenticationResult;
    if (!auth?.IdToken || !auth.AccessToken) throw new Error(`Log-in of ${email} returned no tokens`);
    return { idToken: auth.IdToken, accessToken: auth.AccessToken, refreshToken: auth.RefreshToken };
  }

  /** Calls the API; the body is parsed as JSON when there is one. */
  async call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const response = await fetch(new URL(path, this.info.apiUrl), {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text.
    }
    return { status: response.status, body, headers: response.headers };
  }

  close(): void {
    this.#cognito.destroy();
  }
}
