/** Where tenant database credentials live: Secrets Manager (locally, the Secrets Manager stand-in). */
export interface SecretStore {
  /**
   * Creates the secret. Idempotent by name: the same name with the same value and tags returns
   * the existing ARN; the same name with anything different throws SecretAlreadyExists; a name
   * outside SECRET_NAME_PATTERN throws InvalidSecretName.
   */
  createSecret(input: {
    name: string;
    value: string;
    tags?: Record<string, string>;
  }): Promise<{ arn: string }>;
  /** The secret's value; throws SecretNotFound. */
  getSecretValue(arnOrName: string): Promise<string>;
  /** Removes the secret; deleting a missing secret is not an error (retries are safe). */
  deleteSecret(arnOrName: string): Promise<void>;
  /**
   * Whether the secret exists (scheduled for deletion counts as existing): what offboarding's
   * certificate verifies a deletion by. Asks with the same rights a deletion has.
   */
  secretExists(arnOrName: string): Promise<boolean>;
  /** Secrets whose name starts with `prefix` (all when omitted), sorted by name, values left out. */
  listSecrets(prefix?: string): Promise<SecretSummary[]>;
}

export interface SecretSummary {
  name: string;
  arn: string;
  tags: Record<string, string>;
  createdAt: string;
}

/** The port's idempotency rule for tags: the same keys with the same values, in any order. */
export function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
  );
}

export class SecretNotFound extends Error {
  constructor(readonly secretId: string) {
    super(`Secrets Manager can't find the specified secret: ${secretId}`);
    this.name = 'SecretNotFound';
  }
}

export class SecretAlreadyExists extends Error {
  constructor(readonly secretName: string) {
    super(`A secret named ${secretName} already exists with a different value or tags`);
    this.name = 'SecretAlreadyExists';
  }
}

/**
 * What Secrets Manager accepts as a secret name: 1–512 ASCII letters, digits and `/_+=.@-`.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html#SecretsManager-CreateSecret-request-Name
 */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

export class InvalidSecretName extends Error {
  constructor(readonly secretName: string) {
    super(`Invalid secret name ${JSON.stringify(secretName)}: use 1-512 of A-Z a-z 0-9 / _ + = . @ -`);
    this.name = 'InvalidSecretName';
  }
}
