/**
 * The local secret store: one JSON file, mode 0600, behind the same port as Secrets Manager.
 * Tenant database passwords live here on the local platform.
 *
 * Differences from Secrets Manager, on purpose: no versions/stages or rotation, no KMS (the file
 * is plain JSON readable by its owner), delete is immediate (no recovery window), ARNs have no
 * random suffix. One process owns the file: writes are serialised inside this process only.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import {
  InvalidSecretName,
  SecretAlreadyExists,
  SecretNotFound,
  type SecretStore,
  type SecretSummary,
} from '#shared/ports/secrets';

export { InvalidSecretName, SecretAlreadyExists, SecretNotFound, type SecretStore, type SecretSummary };

const ARN_PREFIX = 'arn:aws:secretsmanager:local:000000000000:secret:';
const VALID_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

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
    if (!VALID_NAME.test(input.name)) return Promise.reject(new InvalidSecretName(input.name));
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
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, secrets: {} };
      throw error;
    }
    return JSON.parse(text) as SecretFile;
  }

  /**
   * Writes a temp file created with mode 0600 (never readable by others, not even briefly), then
   * renames it over the old one, so a crash leaves either the old or the new file, never half.
   */
  private async write(data: SecretFile): Promise<void> {
    const folder = path.dirname(this.file);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temporary, this.file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    // Explicit, so the file's mode never depends on how open() and the umask combine.
    await chmod(this.file, 0o600);
  }
}

function nameOf(arnOrName: string): string {
  return arnOrName.startsWith(ARN_PREFIX) ? arnOrName.slice(ARN_PREFIX.length) : arnOrName;
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
