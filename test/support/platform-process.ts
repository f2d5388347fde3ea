import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PlatformPorts } from '#infra/local/platform';
import type { PlatformInfo } from '#infra/local/platform-info';
import { platformInfoFile } from '#infra/local/platform-info';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

export interface RunningPlatform {
  readonly info: PlatformInfo;
  readonly process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Every port `npm start` takes a flag for (`--<name>-port`), the keys of PlatformPorts. */
export const PORT_NAMES = [
  'api',
  'postgres',
  'dynamodb',
  'cognito',
  'lambda',
  'events',
  'secretsmanager',
  'dataapi',
  'sts',
  'console',
] as const satisfies readonly (keyof PlatformPorts)[];

const GENEROUS = 1_000_000;

/**
 * The test platform's plans: a generous default plan, so that the suite's tenants (many databases,
 * tables, members and roles each) are not refused; the quota tests give their own tenants small
 * limits with `PUT /tenants/{id}/plan` (test/integration/quotas.test.ts). The same limits on a
 * pooled plan, for the suites that run over both isolations.
 */
const GENEROUS_LIMITS = {
  requestsPerSecond: GENEROUS,
  burst: GENEROUS,
  apiCallsPerMonth: GENEROUS * 1000,
  databases: GENEROUS,
  tablesPerDatabase: GENEROUS,
  members: GENEROUS,
  customRoles: GENEROUS,
  storageBytes: GENEROUS * GENEROUS,
  backupRetentionDays: 30,
} as const;

/** The plan the suites' pooled tenants are registered on (docs/isolation-modes.md). */
export const POOLED_TEST_PLAN = 'pooled';

export const TEST_PLANS = {
  plans: {
    generous: GENEROUS_LIMITS,
    [POOLED_TEST_PLAN]: { ...GENEROUS_LIMITS, isolation: 'pool' },
  },
  defaultPlan: 'generous',
} as const;

/**
 * The test platform's clusters (issue 18: the suite runs on two). `primary` has far more headroom,
 * so that placement keeps the suite's tenants there, where its helpers read their databases
 * (`info.postgres`); a test reaches `c2` by pinning a tenant to it (test/integration/clusters.test.ts).
 */
export const TEST_CLUSTERS = [
  { id: 'primary', name: 'Primary', capacity: 100_000 },
  { id: 'c2', name: 'Second', capacity: 50 },
] as const;

/**
 * Starts the local platform exactly as `npm start` does, in a child process, on free ports, with
 * its state in `stateDir`; resolves once its endpoints file is written.
 */
export async function startPlatformProcess(
  stateDir: string,
  timeoutMs = 60_000,
  nodeArgs: readonly string[] = [],
  startArgs: readonly string[] = [],
): Promise<RunningPlatform> {
  const ports = PORT_NAMES.flatMap((name) => [`--${name}-port`, '0']);
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--import',
      'tsx',
      path.join(repoRoot, 'infra/local/start.ts'),
      '--state-dir',
      stateDir,
      ...ports,
      ...startArgs,
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      // No membership cache: each local function has its own, as in Lambda, so a change would
      // reach the others only after 30 s; the suite asserts what every function answers at once.
      env: {
        ...process.env,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
        TENANTRY_ACCESS_CACHE_MS: '0',
        TENANTRY_PLANS: process.env.TENANTRY_PLANS ?? JSON.stringify(TEST_PLANS),
        TENANTRY_CLUSTERS: process.env.TENANTRY_CLUSTERS ?? JSON.stringify(TEST_CLUSTERS),
      },
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  let info: PlatformInfo | undefined;
  while (!info) {
    if (child.exitCode !== null)
      throw new Error(`The local platform exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`The local platform did not start in ${timeoutMs} ms:\n${output}`);
    }
    try {
      const candidate = JSON.parse(await readFile(platformInfoFile(stateDir), 'utf8')) as PlatformInfo;
      if (candidate.pid === child.pid) info = candidate;
    } catch {
      // Not written yet.
    }
    if (!info) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    info,
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
