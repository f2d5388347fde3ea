/**
 * The console's runtime configuration, `/config.json` beside index.html: written at deploy time
 * by the CDK app (docs/console-hosting.md) and served by the local platform's console server, so
 * one build runs against any deployment.
 */
export interface ConsoleConfig {
  /** The HTTP API's base URL, e.g. https://abc.execute-api.eu-west-1.amazonaws.com */
  readonly apiUrl: string;
  readonly region: string;
  readonly userPoolId: string;
  /** The app client the console signs in with (USER_PASSWORD_AUTH and refresh tokens). */
  readonly clientId: string;
  /** The Cognito user pools API, e.g. https://cognito-idp.eu-west-1.amazonaws.com/ */
  readonly cognitoEndpoint: string;
}

const FIELDS = ['apiUrl', 'region', 'userPoolId', 'clientId', 'cognitoEndpoint'] as const;

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`/config.json answered ${response.status}`);
  const value: unknown = await response.json();
  if (typeof value !== 'object' || value === null) throw new Error('/config.json is not an object');
  const record = value as Record<string, unknown>;
  for (const field of FIELDS) {
    if (typeof record[field] !== 'string' || record[field] === '')
      throw new Error(`/config.json has no ${field}`);
  }
  return record as unknown as ConsoleConfig;
}
