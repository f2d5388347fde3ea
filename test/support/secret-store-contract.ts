import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidSecretName,
  SecretAlreadyExists,
  SecretNotFound,
  type SecretStore,
} from '#shared/ports/secrets';

/**
 * What shared/ports/secrets.ts promises, run against every SecretStore adapter: today the
 * AWS adapter, with the real SDK client, on the Secrets Manager stand-in.
 */
export function describeSecretStoreContract(
  adapter: string,
  open: () => Promise<{ store: SecretStore; close(): Promise<void> }>,
): void {
  describe(`SecretStore contract: ${adapter}`, () => {
    let store: SecretStore;
    let close: () => Promise<void>;
    const tenantTags = { 'tenantry:tenant-id': 't_one' };

    beforeAll(async () => {
      ({ store, close } = await open());
    });

    afterAll(async () => {
      await close();
    });

    it('creates a secret that reads back by ARN and by name', async () => {
      const { arn } = await store.createSecret({
        name: 'tenantry/dev/tenants/t_one',
        value: '{"p":"1"}',
        tags: tenantTags,
      });

      expect(arn).toContain('secret:tenantry/dev/tenants/t_one');
      expect(await store.getSecretValue(arn)).toBe('{"p":"1"}');
      expect(await store.getSecretValue('tenantry/dev/tenants/t_one')).toBe('{"p":"1"}');
    });

    it('is idempotent by name, value and tags, and refuses anything different under the name', async () => {
      const first = await store.createSecret({
        name: 'tenantry/dev/tenants/t_two',
        value: 'v2',
        tags: tenantTags,
      });

      const again = await store.createSecret({
        name: 'tenantry/dev/tenants/t_two',
        value: 'v2',
        tags: tenantTags,
      });

      expect(again.arn).toBe(first.arn);
      await expect(
        store.createSecret({ name: 'tenantry/dev/tenants/t_two', value: 'other', tags: tenantTags }),
      ).rejects.toBeInstanceOf(SecretAlreadyExists);
      await expect(
        store.createSecret({
          name: 'tenantry/dev/tenants/t_two',
          value: 'v2',
          tags: { 'tenantry:tenant-id': 't_x' },
        }),
      ).rejects.toBeInstanceOf(SecretAlreadyExists);
      await expect(
        store.createSecret({ name: 'tenantry/dev/tenants/t_two', value: 'v2' }),
      ).rejects.toBeInstanceOf(SecretAlreadyExists);
      expect(await store.getSecretValue(first.arn)).toBe('v2');
    });

    it('refuses a name Secrets Manager does not accept', async () => {
      await expect(store.createSecret({ name: 'bad name!', value: 'x' })).rejects.toBeInstanceOf(
        InvalidSecretName,
      );
      await expect(store.createSecret({ name: 'n'.repeat(513), value: 'x' })).rejects.toBeInstanceOf(
        InvalidSecretName,
      );
    });

    it('answers SecretNotFound for a secret that does not exist', async () => {
      await expect(store.getSecretValue('tenantry/dev/tenants/t_none')).rejects.toBeInstanceOf(
        SecretNotFound,
      );
    });

    it('deletes at once and idempotently, and the name can be used again', async () => {
      const { arn } = await store.createSecret({
        name: 'tenantry/dev/tenants/t_gone',
        value: 'old',
        tags: tenantTags,
      });

      await store.deleteSecret(arn);
      await store.deleteSecret(arn);
      await store.deleteSecret('tenantry/dev/tenants/t_gone');
      await store.deleteSecret('tenantry/dev/tenants/never-existed');

      await expect(store.getSecretValue('tenantry/dev/tenants/t_gone')).rejects.toBeInstanceOf(
        SecretNotFound,
      );
      expect((await store.listSecrets('tenantry/dev/tenants/t_gone')).length).toBe(0);
      await store.createSecret({ name: 'tenantry/dev/tenants/t_gone', value: 'new' });
      expect(await store.getSecretValue('tenantry/dev/tenants/t_gone')).toBe('new');
    });

    it('lists by prefix, sorted by name, with tags and without values', async () => {
      await store.createSecret({ name: 'list/b', value: 'secret-b', tags: { k: 'b' } });
      await store.createSecret({ name: 'list/a', value: 'secret-a' });
      await store.createSecret({ name: 'List/c', value: 'secret-c' });
      await store.createSecret({ name: 'listed-elsewhere', value: 'secret-d' });

      const listed = await store.listSecrets('list/');

      expect(listed.map((secret) => secret.name)).toEqual(['list/a', 'list/b']);
      expect(listed[1]?.tags).toEqual({ k: 'b' });
      expect(listed[0]?.arn).toContain('secret:list/a');
      expect(Number.isNaN(Date.parse(listed[0]?.createdAt ?? ''))).toBe(false);
      expect(JSON.stringify(listed)).not.toContain('secret-');
      const all = (await store.listSecrets()).map((secret) => secret.name);
      expect(all).toEqual([...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(all).toEqual(expect.arrayContaining(['List/c', 'list/a', 'list/b', 'listed-elsewhere']));
    });
  });
}
