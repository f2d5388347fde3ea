/**
 * The local secret store: one JSON file, mode 0600, behind the same port as Secrets Manager.
 * Tenant database passwords live here on the local platform.
 *
 * Differences from Secrets Manager, on purpose: no versions/stages or rotation, no KMS (the file
 * is plain JSON readable by its owner), delete is immediate (no recovery window), ARNs have no
 * random suffix. One process owns the file: writes are serialised inside this process only.
 */
import path from 'node:path';

import {
  InvalidSecretName,
  SECRET_NAME_PATTERN,
  SecretAlreadyExists,
  SecretNotFound,
  type SecretStore,
  type SecretSummary,
  sameTags,
} from '#shared/ports/secrets';
import { readFileIfPresent, writePrivateFileAtomically } from './state-files.ts';

export { InvalidSecretName, SecretAlreadyExists, SecretNotFound, type SecretStore, type SecretSummary };

const ARN_PREFIX = 'arn:aws:secretsmanager:local:000000000000:secret:';

interface StoredSecret extends SecretSummary {
  value: string;
}

interface SecretFile {
  version: 1;
  secrets: Record<string, StoredSecret>;
}

export class FileSecretStore implements SecretStore {
  readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();

  /** Keeps the secrets in `<dataDir>/secrets.json`. */
  constructor(dataDir: string) {
    this.file = path.join(path.resolve(dataDir), 'secrets.json');
  }

  static arnFor(name: string): string {
    return `${ARN_PREFIX}${name}`;
  }

  createSecret(input: {
    name: string;
    value: string;
    tags?: Record<string, string>;
  }): Promise<{ arn: string }> {
    if (!SECRET_NAME_PATTERN.test(input.name)) return Promise.reject(new InvalidSecretName(input.name));
    const tags = { ...input.tags };
    return this.exclusive(async () => {
      const data = await this.read();
      const existing = data.secrets[input.name];
      if (existing !== undefined) {
        if (existing.value === input.value && sameTags(existing.tags, tags)) return { arn: existing.arn };
        throw new SecretAlreadyExists(input.name);
      }
      const arn = FileSecretStore.arnFor(input.name);
      data.secrets[input.name] = {
        name: input.name,
        arn,
        tags,
        value: input.value,
        createdAt: new Date().toISOString(),
      };
      await this.write(data);
      return { arn };
    });
  }

  getSecretValue(arnOrName: string): Promise<string> {
    return this.exclusive(async () => {
      const secret = (await this.read()).secrets[nameOf(arnOrName)];
      if (secret === undefined) throw new SecretNotFound(arnOrName);
      return secret.value;
    });
  }

  deleteSecret(arnOrName: string): Promise<void> {
    return this.exclusive(async () => {
      const data = await this.read();
      const name = nameOf(arnOrName);
      if (data.secrets[name] === undefined) return;
      delete data.secrets[name];
      await this.write(data);
    });
  }

  listSecrets(prefix = ''): Promise<SecretSummary[]> {
    return this.exclusive(async () =>
      Object.values((await this.read()).secrets)
        .filter((secret) => secret.name.startsWith(prefix))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map(({ value: _value, ...summary }) => summary),
    );
  }

  /** Runs operations one at a time so a read-modify-write never interleaves with another. */
  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async read(): Promise<SecretFile> {
    const text = await readFileIfPresent(this.file);
    return text === undefined ? { version: 1, secrets: {} } : (JSON.parse(text) as SecretFile);
  }

  /** Atomic and 0600: see `writePrivateFileAtomically`. */
  private write(data: SecretFile): Promise<void> {
    return writePrivateFileAtomically(this.file, `${JSON.stringify(data, null, 2)}\n`);
  }
}

function nameOf(arnOrName: string): string {
  return arnOrName.startsWith(ARN_PREFIX) ? arnOrName.slice(ARN_PREFIX.length) : arnOrName;
}
