import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { FileSecretStore } from '#infra/local/engines/secrets';
import { SecretsManagerStore } from '#shared/adapters/secrets-manager-store';
import { SecretNotFound } from '#shared/ports/secrets';
import { describeSecretStoreContract } from '../../support/secret-store-contract.ts';
import { startStandIn } from '../../support/secrets-manager.ts';

// One standard for both adapters of the secret port: the local file store, and the AWS adapter
// with the real SecretsManagerClient against the Secrets Manager stand-in.

describeSecretStoreContract('FileSecretStore', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tenantry-secrets-contract-'));
  return { store: new FileSecretStore(dataDir), close: () => rm(dataDir, { recursive: true, force: true }) };
});

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
