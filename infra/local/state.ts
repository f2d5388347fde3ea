import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type PlatformInfo, platformInfoFile } from './platform-info.ts';

/** The state folder: `TENANTRY_STATE_DIR`, else `.tenantry/` in the repository (git-ignored). */
export function defaultStateDir(): string {
  return path.resolve(
    process.env.TENANTRY_STATE_DIR ?? path.join(import.meta.dirname, '..', '..', '.tenantry'),
  );
}

export class PlatformNotRunning extends Error {
  constructor(stateDir: string) {
    super(`No local platform is running for ${stateDir}: start it with \`npm start\``);
    this.name = 'PlatformNotRunning';
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Reads `platform.json` of a running platform. */
export async function readPlatformInfo(stateDir = defaultStateDir()): Promise<PlatformInfo> {
  let info: PlatformInfo;
  try {
    info = JSON.parse(await readFile(platformInfoFile(stateDir), 'utf8')) as PlatformInfo;
  } catch {
    throw new PlatformNotRunning(stateDir);
  }
  if (!isAlive(info.pid)) throw new PlatformNotRunning(stateDir);
  return info;
}
