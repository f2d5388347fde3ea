import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  ResendConfirmationCodeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { ConsoleConfig } from './config';

/**
 * Sign-up and sign-in through the Cognito user pools API, the flows the app client allows
 * (USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH, infra/stacks/identity-stack.ts). SignUp,
 * ConfirmSignUp and InitiateAuth are public operations: no AWS credentials, nothing signed
 * (https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flows-public-server-side.html).
 * The tokens live in this tab's sessionStorage: gone when the tab closes, never in a cookie.
 */
export interface Session {
  readonly email: string;
  readonly idToken: string;
  readonly refreshToken: string;
  /** Seconds since the epoch when the ID token expires. */
  readonly expiresAt: number;
}

const STORAGE_KEY = 'tenantry.session';

export class Auth {
  readonly #client: CognitoIdentityProviderClient;
  readonly #clientId: string;

  constructor(config: ConsoleConfig) {
    this.#client = new CognitoIdentityProviderClient({
      region: config.region,
      endpoint: config.cognitoEndpoint,
      // No credentials: the SDK's auth scheme for these operations is smithy.api#noAuth, so it
      // never looks for any (@aws-sdk/client-cognito-identity-provider, auth/httpAuthSchemeProvider).
    });
    this.#clientId = config.clientId;
  }

  async signUp(email: string, password: string, tenantName?: string): Promise<void> {
    await this.#client.send(
      new SignUpCommand({
        ClientId: this.#clientId,
        Username: email,
        Password: password,
        UserAttributes: [
          { Name: 'email', Value: email },
          ...(tenantName ? [{ Name: 'custom:tenant_name', Value: tenantName }] : []),
        ],
      }),
    );
  }

  async confirm(email: string, code: string): Promise<void> {
    await this.#client.send(
      new ConfirmSignUpCommand({ ClientId: this.#clientId, Username: email, ConfirmationCode: code }),
    );
  }

  async resendCode(email: string): Promise<void> {
    await this.#client.send(new ResendConfirmationCodeCommand({ ClientId: this.#clientId, Username: email }));
  }

  async signIn(email: string, password: string): Promise<Session> {
    const result = await this.#client.send(
      new InitiateAuthCommand({
        ClientId: this.#clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    if (result.ChallengeName)
      throw new Error(`Sign-in needs ${result.ChallengeName}, which the console does not do yet`);
    const auth = result.AuthenticationResult;
    if (!auth?.IdToken || !auth.RefreshToken) throw new Error('Cognito returned no tokens');
    return this.#store({
      email,
      idToken: auth.IdToken,
      refreshToken: auth.RefreshToken,
      expiresAt: expiry(auth.IdToken),
    });
  }

  /** A new ID token (after PUT /me/active-tenant its claims name the new tenant). */
  async refresh(session: Session): Promise<Session> {
    const result = await this.#client.send(
      new InitiateAuthCommand({
        ClientId: this.#clientId,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: session.refreshToken },
      }),
    );
    const idToken = result.AuthenticationResult?.IdToken;
    if (!idToken) throw new Error('Cognito returned no token');
    return this.#store({ ...session, idToken, expiresAt: expiry(idToken) });
  }

  restore(): Session | null {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    try {
      const session = JSON.parse(raw) as Session;
      return typeof session.idToken === 'string' ? session : null;
    } catch {
      return null;
    }
  }

  signOut(): void {
    sessionStorage.removeItem(STORAGE_KEY);
  }

  #store(session: Session): Session {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    return session;
  }
}

/** The `exp` claim of a JWT (read, not verified: the API verifies every token). */
function expiry(token: string): number {
  const payload = token.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  const exp = (JSON.parse(json) as { exp?: unknown }).exp;
  return typeof exp === 'number' ? exp : 0;
}

/** Cognito's error as a sentence for the form (its name says which). */
export function authMessage(error: unknown): string {
  if (error instanceof Error) {
    switch (error.name) {
      case 'NotAuthorizedException':
        return 'Incorrect email or password.';
      case 'UserNotConfirmedException':
        return 'Confirm your email first: enter the code we sent.';
      case 'UsernameExistsException':
        return 'An account with this email exists: sign in instead.';
      case 'InvalidPasswordException':
        return error.message;
      case 'CodeMismatchException':
        return 'That code is not right: check it, or send a new one.';
      case 'ExpiredCodeException':
        return 'That code has expired: send a new one.';
      default:
        return error.message;
    }
  }
  return String(error);
}
