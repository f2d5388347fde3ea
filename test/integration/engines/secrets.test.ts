import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileSecretStore,
  InvalidSecretName,
  SecretAlreadyExists,
  SecretNotFound,
} from '#infra/local/engines/secrets';

describe('file secret store', () => {
  let dataDir: string;
  let store: FileSecretStore;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tenantry-secrets-'));
    store = new FileSecretStore(dataDir);
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates a secret in a file only its owner can read', async () => {
    const { arn } = await store.createSecret({
      name: 'tenantry/tenant/t1/db',
      value: '{"password":"s3cret"}',
      tags: { 'tenantry:tenant-id': 't1' },
    });
    expect(arn).toBe('arn:aws:secretsmanager:local:000000000000:secret:tenantry/tenant/t1/db');
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    expect(await store.getSecretValue(arn)).toBe('{"password":"s3cret"}');
    expect(await store.getSecretValue('tenantry/tenant/t1/db')).toBe('{"password":"s3cret"}');
  });

  it('is idempotent by name and refuses a different value under the same name', async () => {
    const again = await store.createSecret({
      name: 'tenantry/tenant/t1/db',
      value: '{"password":"s3cret"}',
      tags: { 'tenantry:tenant-id': 't1' },
    });
    expect(again.arn).toBe(FileSecretStore.arnFor('tenantry/tenant/t1/db'));
    await expect(
      store.createSecret({ name: 'tenantry/tenant/t1/db', value: 'other' }),
    ).rejects.toBeInstanceOf(SecretAlreadyExists);
    await expect(store.createSecret({ name: 'bad name!', value: 'x' })).rejects.toBeInstanceOf(
      InvalidSecretName,
    );
  });

  it('lists by prefix without values and survives a new store instance', async () => {
    await store.createSecret({
      name: 'tenantry/tenant/t2/db',
      value: 'v2',
      tags: { 'tenantry:tenant-id': 't2' },
    });
    await store.createSecret({ name: 'other/thing', value: 'v3' });
    const reopened = new FileSecretStore(dataDir);
    const listed = await reopened.listSecrets('tenantry/tenant/');
    expect(listed.map((secret) => secret.name)).toEqual(['tenantry/tenant/t1/db', 'tenantry/tenant/t2/db']);
    expect(listed[1]?.tags).toEqual({ 'tenantry:tenant-id': 't2' });
    expect(JSON.stringify(listed)).not.toContain('v2');
    expect(await reopened.listSecrets()).toHaveLength(3);
  });

  it('deletes idempotently, after which reads fail with SecretNotFound', async () => {
    await store.deleteSecret(FileSecretStore.arnFor('tenantry/tenant/t2/db'));
    await store.deleteSecret('tenantry/tenant/t2/db');
    await expect(store.getSecretValue('tenantry/tenant/t2/db')).rejects.toBeInstanceOf(SecretNotFound);
    expect(await readFile(store.file, 'utf8')).not.toContain('v2');
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
  });

  it('keeps the file consistent under concurrent writes', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.createSecret({ name: `burst/${i}`, value: String(i) })),
    );
    expect(await store.listSecrets('burst/')).toHaveLength(20);
  });
});
