import { access, readdir, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { PlatformInfo } from './platform-info.ts';
import { platformInfoFile, stateMarkerFile } from './platform-info.ts';
import { defaultStateDir, isAlive } from './state.ts';

const { values } = parseArgs({ options: { 'state-dir': { type: 'string' } } });
const stateDir = path.resolve(values['state-dir'] ?? defaultStateDir());
const repoRoot = path.resolve(import.meta.dirname, '..', '..');

/** Only a folder the platform made (it has the marker) or an empty one is deleted. */
async function isStateFolder(dir: string): Promise<boolean> {
  if ([path.parse(dir).root, homedir(), repoRoot].includes(dir)) return false;
  try {
    await access(stateMarkerFile(dir));
    return true;
  } catch {
    return (await readdir(dir).catch(() => [])).length === 0;
  }
}

if (!(await isStateFolder(stateDir))) {
  console.error(
    `Refusing to delete ${stateDir}: it is not a Tenantry state folder (no .tenantry-state in it).`,
  );
  process.exit(1);
}

try {
  const info = JSON.parse(await readFile(platformInfoFile(stateDir), 'utf8')) as PlatformInfo;
  if (isAlive(info.pid)) {
    console.error(
      `The local platform (pid ${info.pid}) is still running on ${stateDir}: stop it first (Ctrl-C).`,
    );
    process.exit(1);
  }
} catch {
  // No endpoints file: nothing is running on this folder.
}
await rm(stateDir, { recursive: true, force: true });
console.log(`Removed ${stateDir}: users, tenants, databases, records and secrets are gone.`);
