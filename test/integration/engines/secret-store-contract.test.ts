import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileSecretStore } from '#infra/local/engines/secrets';
import { SecretsManagerStore } from '#shared/adapters/secrets-manager-store';
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
