/**
 * Files the local engines keep their state in. Those that hold secrets are readable by their
 * owner only (0600, in a 0700 folder) and replaced atomically, so a crash leaves either the old
 * or the new content, never half.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `text` to a temp file created with mode 0600 (never readable by others, not even
 * briefly), flushes it, then renames it over `file`.
 */
export async function writePrivateFileAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  // Explicit, so the file's mode never depends on how open() and the umask combine.
  await chmod(file, 0o600);
}

/** The file's text, or undefined when it does not exist yet. */
export async function readFileIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
