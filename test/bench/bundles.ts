import { execFile } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { repoRoot } from '#infra/constructs/tenantry-function';
import { routeList } from '#shared/routes/table';
import { FUNCTION_BUILD_OPTIONS } from '../support/function-bundle.ts';
import type { Figure } from './report.ts';
import { median, round } from './stats.ts';

const run = promisify(execFile);

export const BUNDLE_BUDGET_BYTES = 300 * 1024;

/** Issue 12: the health route's cold init within 1.5× a bare `node -e 0`, every route function's within 3×. */
const COLD_INIT_BUDGETS = { health: 1.5, route: 3 } as const;
const routeEntries = new Set(routeList.map((route) => route.handler));

function coldInitBudget(entry: string, ratio: number): Figure['budget'] {
  const limit =
    entry === 'platform/get-health'
      ? COLD_INIT_BUDGETS.health
      : routeEntries.has(entry)
        ? COLD_INIT_BUDGETS.route
        : undefined;
  return limit === undefined ? undefined : { text: `ratio ≤ ${limit}`, met: ratio <= limit };
}

/** The SDK client modules the composition root imports on a client's first use. */
const SDK_CLIENTS = [
  '@aws-sdk/client-rds-data',
  '@aws-sdk/client-eventbridge',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-cognito-identity-provider',
  '@aws-sdk/client-sfn',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-s3',
];

/** Every Lambda entry point: each file under functions/ is one function. */
export async function functionEntries(): Promise<string[]> {
  const root = path.join(repoRoot, 'functions');
  const entries: string[] = [];
  for (const area of await readdir(root)) {
    for (const file of await readdir(path.join(root, area))) {
      if (file.endsWith('.ts')) entries.push(`${area}/${file.slice(0, -3)}`);
    }
  }
  return entries.sort();
}

/** Bundles one entry as CDK does (same esbuild settings), into `outDir`. */
async function bundle(entry: string, outDir: string): Promise<{ file: string; bytes: number }> {
  const file = path.join(outDir, `${entry.replace('/', '__')}.cjs`);
  await build({
    entryPoints: [path.join(repoRoot, 'functions', `${entry}.ts`)],
    outfile: file,
    ...FUNCTION_BUILD_OPTIONS,
  });
  return { file, bytes: (await stat(file)).size };
}

/** What the functions read at cold start, with values that parse (nothing is contacted). */
const COLD_START_ENV = {
  TENANTRY_STAGE: 'bench',
  LOG_LEVEL: 'ERROR',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  EVENT_BUS_NAME: 'tenantry-bench',
  AUDIT_TABLE_NAME: 'tenantry-bench-audit',
  USAGE_TABLE_NAME: 'tenantry-bench-usage',
  USER_POOL_ID: 'us-east-1_bench',
  USER_POOL_CLIENT_ID: 'bench',
  CLUSTER_ARN: 'arn:aws:rds:us-east-1:000000000000:cluster:bench',
  CLUSTER_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
  PROVISIONING_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:bench',
  EXPORTS_BUCKET_NAME: 'tenantry-bench-exports',
  TELEMETRY_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/bench',
};

async function timeProcess(args: string[]): Promise<number> {
  const started = performance.now();
  await run(process.execPath, args, { env: { ...process.env, ...COLD_START_ENV }, cwd: repoRoot });
  return performance.now() - started;
}

/**
 * Figures 1 and 2: the minified bundle of every function (budget 300 KB), and its cold init —
 * a fresh Node process loading it, as Lambda's init does (no client is made there: each is made,
 * and its SDK module loaded, on its first use) — against a fresh `node -e 0` in the same run.
 * Figure 2b: what that first use adds, per SDK client module, in a fresh process.
 */
export async function measureBundles(
  outDir: string,
  runs: number,
  progress: (line: string) => void,
): Promise<Figure[]> {
  await mkdir(outDir, { recursive: true });
  const entries = await functionEntries();
  const figures: Figure[] = [];
  const bundles: Array<{ entry: string; file: string; bytes: number }> = [];
  for (const entry of entries) {
    const built = await bundle(entry, outDir);
    bundles.push({ entry, ...built });
    figures.push({
      group: '1. Bundle size',
      name: entry,
      value: round(built.bytes / 1024),
      unit: 'KB',
      budget: { text: '≤ 300 KB', met: built.bytes <= BUNDLE_BUDGET_BYTES },
    });
  }
  progress(
    `bundled ${bundles.length} functions; largest ${(Math.max(...bundles.map((b) => b.bytes)) / 1024) | 0} KB`,
  );

  const baselineRuns: number[] = [];
  await timeProcess(['-e', '0']);
  for (let i = 0; i < runs; i++) baselineRuns.push(await timeProcess(['-e', '0']));
  const baseline = median(baselineRuns);
  for (const { entry, file } of bundles) {
    // The bundles are CommonJS (infra/constructs/tenantry-function.ts), which Lambda's Node.js
    // runtime loads with require ("RUNTIME LOADER Try loading as commonjs", `_tryRequireFile`:
    // https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/93); loading one
    // through the ESM loader instead would add that loader to every figure.
    const args = ['-e', `require(${JSON.stringify(file)})`];
    await timeProcess(args);
    const durations: number[] = [];
    for (let i = 0; i < runs; i++) durations.push(await timeProcess(args));
    const value = median(durations);
    const ratio = round(value / baseline, 2);
    const budget = coldInitBudget(entry, ratio);
    figures.push({
      group: '2. Cold init',
      name: entry,
      value: round(value),
      unit: 'ms',
      baseline: { name: 'node -e 0', value: round(baseline) },
      ratio,
      ...(budget ? { budget } : {}),
    });
    if (budget && !budget.met) progress(`${entry}: cold init ${ratio}× over its budget (${budget.text})`);
  }
  const worst = figures
    .filter((f) => f.group === '2. Cold init')
    .sort((a, b) => (b.ratio ?? 0) - (a.ratio ?? 0))[0];
  progress(
    `cold init measured for ${bundles.length} functions (baseline node -e 0: ${round(baseline)} ms; ` +
      `highest ${worst?.name} ${worst?.ratio}×)`,
  );

  for (const client of SDK_CLIENTS) {
    const args = ['-e', `require(${JSON.stringify(client)})`];
    await timeProcess(args);
    const durations: number[] = [];
    for (let i = 0; i < runs; i++) durations.push(await timeProcess(args));
    const value = median(durations);
    figures.push({
      group: '2b. First use of a client',
      name: client,
      value: round(Math.max(0, value - baseline)),
      unit: 'ms',
      baseline: { name: 'node -e 0', value: round(baseline) },
      ratio: round(value / baseline, 2),
      note: 'added to the first request that uses it (a fresh process loading the module; ratio: that process against node -e 0)',
    });
  }
  progress(`first use measured for ${SDK_CLIENTS.length} SDK clients`);
  return figures;
}
