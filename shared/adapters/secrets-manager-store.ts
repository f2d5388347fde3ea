import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ListSecretsCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import {
  InvalidSecretName,
  SECRET_NAME_PATTERN,
  SecretAlreadyExists,
  SecretNotFound,
  type SecretStore,
  type SecretSummary,
  sameTags,
} from '#shared/ports/secrets';

/** The secret port on AWS Secrets Manager. Creating is idempotent by name, value and tags. */
export class SecretsManagerStore implements SecretStore {
  constructor(private readonly client: SecretsManagerClient) {}

  async createSecret(input: {
    name: string;
    value: string;
    tags?: Record<string, string>;
  }): Promise<{ arn: string }> {
    // Checked here, so that callers get the port's error and not AWS's ValidationException
    // (whose message would have to be parsed to tell it from others).
    if (!SECRET_NAME_PATTERN.test(input.name)) throw new InvalidSecretName(input.name);
    const tags = { ...input.tags };
    try {
      const created = await this.client.send(
        new CreateSecretCommand({
          Name: input.name,
          SecretString: input.value,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      if (!created.ARN) throw new Error('CreateSecret returned no ARN');
      return { arn: created.ARN };
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      // A retried step: the same name with the same value and tags is the secret we made before.
      return this.existingAsCreated(input.name, input.value, tags);
    }
  }

  async getSecretValue(arnOrName: string): Promise<string> {
    try {
      const result = await this.client.send(new GetSecretValueCommand({ SecretId: arnOrName }));
      if (result.SecretString === undefined) throw new SecretNotFound(arnOrName);
      return result.SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) throw new SecretNotFound(arnOrName);
      // GetSecretValue's InvalidRequestException means the secret is scheduled for deletion: it
      // cannot be read any more, which the port calls not found.
      // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html#API_GetSecretValue_Errors
      if (error instanceof InvalidRequestException) throw new SecretNotFound(arnOrName);
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
      // Offboarding leaves nothing behind: no recovery window, and the name is free again at once.
      // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html#SecretsManager-DeleteSecret-request-ForceDeleteWithoutRecovery
      await this.client.send(
        new DeleteSecretCommand({ SecretId: ARN ?? arnOrName, ForceDeleteWithoutRecovery: true }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  /**
   * DescribeSecret: ResourceNotFoundException, "Secrets Manager can't find the resource that you
   * asked for", is the only answer that means gone
   * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html#API_DescribeSecret_Errors);
   * any other error is thrown, never taken for absence.
   * Unlike GetSecretValue, it is allowed on a tenant secret without its tag matching, so a gone
   * secret is "not found" here, not AccessDeniedException.
   */
  async secretExists(arnOrName: string): Promise<boolean> {
    try {
      await this.client.send(new DescribeSecretCommand({ SecretId: arnOrName }));
      return true;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
  }

  /**
   * ListSecrets with the `name` filter (prefix match, case-sensitive). ListSecrets is eventually
   * consistent: a secret made or deleted in the last minutes may be missing or still listed.
   * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html
   */
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
          tags: tagsOf(secret.Tags),
          createdAt: secret.CreatedDate?.toISOString() ?? '',
        });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    // Code-unit order, as the port promises: localeCompare would order by the locale's rules.
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async existingAsCreated(
    name: string,
    value: string,
    tags: Record<string, string>,
  ): Promise<{ arn: string }> {
    const described = await this.client.send(new DescribeSecretCommand({ SecretId: name }));
    const existing = await this.getSecretValue(name);
    if (existing !== value || !sameTags(tagsOf(described.Tags), tags)) throw new SecretAlreadyExists(name);
    if (!described.ARN) throw new Error('DescribeSecret returned no ARN');
    return { arn: described.ARN };
  }
}

function tagsOf(tags: readonly Tag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}
