import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '#infra/constructs/tenantry-function';
import { functionEntries } from '../bench/bundles.ts';
import { FUNCTION_BUILD_OPTIONS } from '../support/function-bundle.ts';

const run = promisify(execFile);

/*
 * A function builds, and imports, only the clients it uses: the composition root imports each
 * adapter and its SDK client on first use. Checked on the real bundles (the CDK app's esbuild
 * settings): loading a function's bundle, as Lambda's init does, loads no AWS SDK module at all.
 * No timing here; the cold-init ratios are the benchmark's (docs/benchmarks.md).
 */

const entries = await functionEntries();
let dir: string;

beforeAll(async () => {
  // In the OS temp folder; the bundles find @aws-sdk/* through NODE_PATH, as Lambda's runtime
  // provides the SDK outside the function's folder.
  dir = await mkdtemp(path.join(tmpdir(), 'tenantry-lean-'));
  await build({
    entryPoints: Object.fromEntries(
      entries.map((entry) => [entry.replace('/', '__'), path.join(repoRoot, 'functions', `${entry}.ts`)]),
    ),
    outdir: dir,
    outExtension: { '.js': '.cjs' },
    ...FUNCTION_BUILD_OPTIONS,
  });
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The @aws-sdk and @smithy packages a fresh process has loaded after requiring the bundles. */
async function sdkModulesLoadedBy(files: readonly string[]): Promise<Record<string, string[]>> {
  const script = `
    const loaded = {};
    for (const file of ${JSON.stringify(files)}) {
      const before = new Set(Object.keys(require.cache));
      const fn = require(file);
      if (typeof fn.handler !== 'function' || typeof fn.handler.with !== 'function') throw new Error(file + ': no composed handler');
      loaded[file] = [...new Set(Object.keys(require.cache).filter((k) => !before.has(k))
        .map((k) => /node_modules\\/(@(?:aws-sdk|smithy)\\/[^/]+)/.exec(k)?.[1]).filter(Boolean))];
    }
    console.log(JSON.stringify(loaded));`;
  const { stdout } = await run(process.execPath, ['-e', script], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_PATH: path.join(repoRoot, 'node_modules'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return JSON.parse(stdout) as Record<string, string[]>;
}

describe('the cold init of every function', () => {
  it('has functions to check', () => {
    expect(entries.length).toBeGreaterThan(60);
  });

  it.each(entries.map((entry) => [entry]))('%s loads no AWS SDK module at init', async (entry) => {
    const file = path.join(dir, `${entry.replace('/', '__')}.cjs`);
    // One process per function: one function's modules must not hide another's.
    const loaded = await sdkModulesLoadedBy([file]);
    expect(loaded[file]).toEqual([]);
  });
});
