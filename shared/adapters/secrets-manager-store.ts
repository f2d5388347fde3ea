import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  SecretAlreadyExists,
  SecretNotFound,
  type SecretStore,
  type SecretSummary,
} from '#shared/ports/secrets';

/** The secret port on AWS Secrets Manager. Creating is idempotent by name and value. */
export class SecretsManagerStore implements SecretStore {
  constructor(private readonly client: SecretsManagerClient) {}

  async createSecret(input: {
    name: string;
    value: string;
    tags?: Record<string, string>;
  }): Promise<{ arn: string }> {
    try {
      const created = await this.client.send(
        new CreateSecretCommand({
          Name: input.name,
          SecretString: input.value,
          Tags: Object.entries(input.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      if (!created.ARN) throw new Error('CreateSecret returned no ARN');
      return { arn: created.ARN };
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      // A retried step: the same name with the same value is the secret we made before.
      const existing = await this.getSecretValue(input.name);
      if (existing !== input.value) throw new SecretAlreadyExists(input.name);
      const described = await this.client.send(new DescribeSecretCommand({ SecretId: input.name }));
      return { arn: described.ARN ?? input.name };
    }
  }

  async getSecretValue(arnOrName: string): Promise<string> {
    try {
      const result = await this.client.send(new GetSecretValueCommand({ SecretId: arnOrName }));
      if (result.SecretString === undefined) throw new SecretNotFound(arnOrName);
      return result.SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) throw new SecretNotFound(arnOrName);
      throw error;
    }
  }

  /**
   * Looks first, deletes only what exists. A role may be allowed DeleteSecret only on secrets that
   * carry a tag (the provisioning steps are): for a missing secret that request has no tags to
   * match, and IAM refuses it (AccessDeniedException) before Secrets Manager could answer "not
   * found". DescribeSecret is allowed on the name prefix without the tag condition, so it answers
   * ResourceNotFoundException (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html).
   */
  async deleteSecret(arnOrName: string): Promise<void> {
    try {
      const { ARN } = await this.client.send(new DescribeSecretCommand({ SecretId: arnOrName }));
      // Offboarding leaves nothing behind: no recovery window.
      await this.client.send(
        new DeleteSecretCommand({ SecretId: ARN ?? arnOrName, ForceDeleteWithoutRecovery: true }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  async listSecrets(prefix?: string): Promise<SecretSummary[]> {
    const out: SecretSummary[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListSecretsCommand({
          NextToken,
          Filters: prefix ? [{ Key: 'name', Values: [prefix] }] : undefined,
        }),
      );
      for (const secret of page.SecretList ?? []) {
        if (!secret.Name || !secret.ARN) continue;
        out.push({
          name: secret.Name,
          arn: secret.ARN,
          tags: Object.fromEntries((secret.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
          createdAt: secret.CreatedDate?.toISOString() ?? '',
        });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
