import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerStore } from '#shared/adapters/secrets-manager-store';

const client = new SecretsManagerClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
});
const sm = mockClient(client);
const store = new SecretsManagerStore(client);
const NAME = 'tenantry/dev/tenants/t_aaaaaaaaaaaaaaaaaaaa';
const ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${NAME}-AbCdEf`;

/** The provisioning role may delete only tagged secrets: for a missing one IAM refuses the call. */
const deniedForMissing = () =>
  new SecretsManagerServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'is not authorized to perform: secretsmanager:DeleteSecret',
  });

beforeEach(() => {
  sm.reset();
});

describe('SecretsManagerStore.deleteSecret', () => {
  it('sends no DeleteSecret for a secret that does not exist, and succeeds', async () => {
    sm.on(DescribeSecretCommand).rejects(
      new ResourceNotFoundException({ message: 'not found', $metadata: {} }),
    );
    sm.on(DeleteSecretCommand).rejects(deniedForMissing());

    await expect(store.deleteSecret(NAME)).resolves.toBeUndefined();
    expect(sm).toHaveReceivedCommandTimes(DeleteSecretCommand, 0);
  });

  it('deletes an existing secret by its ARN, without a recovery window', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, Name: NAME });
    sm.on(DeleteSecretCommand).resolves({ ARN, Name: NAME });

    await store.deleteSecret(NAME);

    expect(sm).toHaveReceivedCommandWith(DeleteSecretCommand, {
      SecretId: ARN,
      ForceDeleteWithoutRecovery: true,
    });
  });

  it('passes on a refusal to delete a secret that exists (one without the tenant tag is not ours)', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, Name: NAME });
    sm.on(DeleteSecretCommand).rejects(deniedForMissing());

    await expect(store.deleteSecret(NAME)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
