/**
 * The synthesized templates, cached by a hash of everything synthesis reads, so the local
 * platform boots in seconds: in-process synthesis takes 3 s on an idle 2-core machine and 6–9 s
 * on a busy one (half of it loading aws-cdk-lib), reading a cached assembly about 10 ms.
 *
 * The key covers the stage and every file under `infra/` (but `infra/local/`, which synthesis
 * never imports), `shared/` (route table, event catalogue, record tables, state machine), and
 * `package.json`, `package-lock.json` (the CDK version) and `cdk.json`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterSetting } from '#shared/domain/clusters';
import { type SynthesizeOptions, synthesizeAssembly } from './cloud-assembly.ts';
import type { CloudAssemblyTemplates } from './template-policies.ts';

export interface CachedAssemblyOptions extends SynthesizeOptions {
  /** Where cached assemblies live, e.g. the platform's state directory. */
  readonly cacheDir: string;
  /** The repository whose sources are hashed. */
  readonly repoRoot: string;
  /** @default synthesizeAssembly */
  readonly synthesize?: (options: SynthesizeOptions) => Promise<CloudAssemblyTemplates>;
}

const SOURCE_DIRS = ['infra', 'shared'];
const SOURCE_FILES = ['package.json', 'package-lock.json', 'cdk.json'];
const EXCLUDED = new Set([path.join('infra', 'local'), 'node_modules']);

/** The hex SHA-256 of the stage and of every source file synthesis can read (path and content). */
export async function assemblySourceHash(
  repoRoot: string,
  stage: string,
  clusters?: readonly ClusterSetting[],
): Promise<string> {
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    if (EXCLUDED.has(relative)) return;
    for (const entry of await readdir(path.join(repoRoot, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) files.push(child);
    }
  };
  for (const dir of SOURCE_DIRS) await walk(dir);
  files.push(...SOURCE_FILES);
  const hash = createHash('sha256').update(`stage:${stage}\n`);
  // The clusters change the templates (one cluster, its secret and its grants each).
  if (clusters) hash.update(`clusters:${JSON.stringify(clusters)}\n`);
  for (const file of files.sort()) {
    const content = await readFile(path.join(repoRoot, file)).catch(() => Buffer.from('<missing>'));
    hash.update(`${file.split(path.sep).join('/')}\n${content.length}\n`).update(content);
  }
  return hash.digest('hex');
}

/** The cached assembly for the current sources, synthesizing (and caching) it on a miss. */
export async function cachedAssembly(options: CachedAssemblyOptions): Promise<CloudAssemblyTemplates> {
  const stage = options.stage ?? 'dev';
  const key = await assemblySourceHash(options.repoRoot, stage, options.clusters);
  const file = path.join(options.cacheDir, `assembly-${stage}-${key.slice(0, 32)}.json`);
  const cached = await readFile(file, 'utf8').catch(() => undefined);
  if (cached !== undefined) return JSON.parse(cached) as CloudAssemblyTemplates;
  const assembly = await (options.synthesize ?? synthesizeAssembly)({
    stage,
    ...(options.clusters ? { clusters: options.clusters } : {}),
  });
  await mkdir(options.cacheDir, { recursive: true });
  // Written aside and renamed, so a reader never sees half a file.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify(assembly));
  await rename(partial, file);
  return assembly;
}
