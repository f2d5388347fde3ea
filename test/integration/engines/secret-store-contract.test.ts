import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretsManagerStore } from '#shared/adapters/secrets-manager-store';
import { SecretNotFound } from '#shared/ports/secrets';
import { describeSecretStoreContract } from '../../support/secret-store-contract.ts';
import { startStandIn } from '../../support/secrets-manager.ts';

// The secret port's standard, held by its adapter: the real SecretsManagerClient against the
// Secrets Manager stand-in.

describeSecretStoreContract('SecretsManagerStore on the Secrets Manager stand-in', async () => {
  const standIn = await startStandIn();
  return { store: new SecretsManagerStore(standIn.client), close: () => standIn.close() };
});

describe('SecretsManagerStore: what only Secrets Manager can do to a secret', () => {
  it('reads a secret scheduled for deletion (by someone else) as SecretNotFound, as the port calls it', async () => {
    const standIn = await startStandIn();
    try {
      const store = new SecretsManagerStore(standIn.client);
      await store.createSecret({ name: 'tenantry/dev/tenants/t_window', value: 'pw' });
      await standIn.client.send(
        new DeleteSecretCommand({ SecretId: 'tenantry/dev/tenants/t_window', RecoveryWindowInDays: 7 }),
      );

      await expect(store.getSecretValue('tenantry/dev/tenants/t_window')).rejects.toBeInstanceOf(
        SecretNotFound,
      );
      // The adapter's own delete is forced (no recovery window), so it also clears this one.
      await store.deleteSecret('tenantry/dev/tenants/t_window');
      await expect(
        standIn.client.send(new DescribeSecretCommand({ SecretId: 'tenantry/dev/tenants/t_window' })),
      ).rejects.toBeInstanceOf(ResourceNotFoundException);
    } finally {
      await standIn.close();
    }
  });
});
