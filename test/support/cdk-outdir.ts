import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/*
 * Setup file: each test file synthesises into one temporary cloud assembly folder (CDK reads
 * CDK_OUTDIR), removed when the file is done, instead of CDK's fresh temp folder per App.
 */
if (!process.env.CDK_OUTDIR) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'tenantry-cdk-out-'));
  process.env.CDK_OUTDIR = outdir;
  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
    delete process.env.CDK_OUTDIR;
  });
}
