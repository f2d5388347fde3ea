import { readFile, rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { PlatformInfo } from './platform-info.ts';
import { platformInfoFile } from './platform-info.ts';
import { defaultStateDir, isAlive } from './state.ts';

const { values } = parseArgs({ options: { 'state-dir': { type: 'string' } } });
const stateDir = values['state-dir'] ?? defaultStateDir();

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
