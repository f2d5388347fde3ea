import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PlatformInfo } from '#infra/local/platform-info';
import { secretNameFor } from '#shared/provisioning/names';

/**
 * A tenant's database credentials, read from the Secrets Manager stand-in the way an operator
 * would with the AWS CLI (an access key of no function: allowed everything), with the secret's
 * ARN; null once deleted.
 */
export async function tenantSecretOf(
  info: PlatformInfo,
  tenantId: string,
): Promise<{ username: string; password: string; arn: string } | null> {
  const client = new SecretsManagerClient({
    region: info.region,
    endpoint: info.secretsManager.endpoint,
    credentials: { accessKeyId: 'operator', secretAccessKey: 'operator' },
  });
  try {
    const secret = await client.send(
      new GetSecretValueCommand({ SecretId: secretNameFor(info.stage, tenantId) }),
    );
    const value = JSON.parse(secret.SecretString ?? 'null') as { username: string; password: string };
    return { ...value, arn: secret.ARN ?? '' };
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return null;
    throw error;
  } finally {
    client.destroy();
  }
}
