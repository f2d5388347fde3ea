import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type BackupObject, type BackupStore, checkedKey } from '#shared/ports/backup-store';

/**
 * The local platform's backup store: `<dir>/<tenantId>/<key>` (dir is `<stateDir>/backups`).
 * Keys are checked (checkedKey) before they become paths, so no key leaves its tenant's folder.
 * A put writes a temporary file and renames it, so a reader never sees half an object (rename
 * replaces atomically on POSIX file systems, as S3's PUT replaces a whole object).
 */
export class FileBackupStore implements BackupStore {
  constructor(private readonly dir: string) {}

  #path(tenantId: string, key: string): string {
    return path.join(this.dir, tenantId, ...checkedKey(tenantId, key).split('/'));
  }

  async put(tenantId: string, key: string, body: Uint8Array): Promise<void> {
    const file = this.#path(tenantId, key);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, body, { mode: 0o600 });
    await rename(temporary, file);
  }

  async get(tenantId: string, key: string): Promise<Uint8Array | null> {
    try {
      return await readFile(this.#path(tenantId, key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async list(tenantId: string, prefix: string): Promise<BackupObject[]> {
    checkedKey(tenantId, prefix, { prefix: true });
    const root = path.join(this.dir, tenantId);
    const objects: BackupObject[] = [];
    for (const key of await filesUnder(root, '')) {
      if (key.startsWith(prefix) && !key.endsWith('.tmp')) {
        objects.push({ key, bytes: (await stat(path.join(root, ...key.split('/')))).size });
      }
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(tenantId: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) await rm(this.#path(tenantId, key), { force: true });
  }
}

/** Every file under `root/relative`, as `/`-joined keys; none when the folder does not exist. */
async function filesUnder(root: string, relative: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(path.join(root, relative), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const keys: string[] = [];
  for (const entry of entries) {
    const key = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) keys.push(...(await filesUnder(root, key)));
    else if (entry.isFile()) keys.push(key);
  }
  return keys;
}
