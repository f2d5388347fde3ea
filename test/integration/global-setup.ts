import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import type { PlatformInfo } from '#infra/local/platform-info';
import { startPlatformProcess } from '../support/platform-process.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    platform: PlatformInfo;
  }
}

/** Boots the local platform once per test run, on free ports in a temp folder. */
export default async function setup(project: TestProject) {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'tenantry-test-'));
  const platform = await startPlatformProcess(stateDir).catch(async (error: unknown) => {
    await rm(stateDir, { recursive: true, force: true });
    throw error;
  });
  project.provide('platform', platform.info);
  return async () => {
    await platform.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
}
