import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assemblySourceHash, cachedAssembly } from '#infra/local/iam/assembly-cache';
import type { CloudAssemblyTemplates } from '#infra/local/iam/template-policies';

describe('the assembly cache', () => {
  let root: string;
  let repo: string;
  let cacheDir: string;
  let syntheses: string[];

  const write = async (file: string, content: string) => {
    await mkdir(path.dirname(path.join(repo, file)), { recursive: true });
    await writeFile(path.join(repo, file), content);
  };
  const synthesize = async ({ stage }: { stage?: string }): Promise<CloudAssemblyTemplates> => {
    syntheses.push(stage ?? '');
    return { stacks: [{ name: `Tenantry-${stage}-Api`, template: { Resources: { n: syntheses.length } } }] };
  };
  const load = (stage = 'dev') => cachedAssembly({ stage, cacheDir, repoRoot: repo, synthesize });

  beforeEach(async () => {
    // Arrange: a small repository with the files synthesis reads, and one it does not
    root = await mkdtemp(path.join(tmpdir(), 'tenantry-assembly-cache-'));
    repo = path.join(root, 'repo');
    cacheDir = path.join(root, 'state');
    syntheses = [];
    await write('infra/app.ts', 'app');
    await write('infra/local/start.ts', 'platform');
    await write('shared/routes/table.ts', 'routes');
    await write('package.json', '{}');
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('synthesizes once, then serves the same assembly from the cache', async () => {
    const first = await load();
    const second = await load();
    expect(syntheses).toEqual(['dev']);
    expect(second).toEqual(first);
    expect((await readdir(cacheDir)).filter((file) => file.endsWith('.partial'))).toEqual([]);
  });

  it('synthesizes again when a source synthesis reads changes, or the stage does', async () => {
    await load();
    await write('shared/routes/table.ts', 'routes with one more route');
    const changed = await load();
    await load('prod');
    expect(syntheses).toEqual(['dev', 'dev', 'prod']);
    expect(changed.stacks[0]?.template).toEqual({ Resources: { n: 2 } });
  });

  it('ignores the local platform sources, which synthesis never imports', async () => {
    const before = await assemblySourceHash(repo, 'dev');
    await write('infra/local/start.ts', 'platform, edited');
    expect(await assemblySourceHash(repo, 'dev')).toBe(before);
    await write('infra/app.ts', 'app, edited');
    expect(await assemblySourceHash(repo, 'dev')).not.toBe(before);
  });
});
