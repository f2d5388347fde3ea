/** Where tenant database credentials live: Secrets Manager in AWS, a 0600 file locally. */
export interface SecretStore {
  /**
   * Creates the secret. Idempotent by name: the same name with the same value and tags returns
   * the existing ARN; the same name with anything different throws SecretAlreadyExists.
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
  /** Secrets whose name starts with `prefix` (all when omitted), sorted by name, values left out. */
  listSecrets(prefix?: string): Promise<SecretSummary[]>;
}

export interface SecretSummary {
  name: string;
  arn: string;
  tags: Record<string, string>;
  createdAt: string;
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

export class InvalidSecretName extends Error {
  constructor(readonly secretName: string) {
    super(`Invalid secret name ${JSON.stringify(secretName)}: use 1-512 of A-Z a-z 0-9 / _ + = . @ -`);
    this.name = 'InvalidSecretName';
  }
}
