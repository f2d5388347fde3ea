/**
 * The synthesized templates the IAM stand-in reads: either synthesized here, in this process,
 * from the same `buildApp` that `cdk synth` runs (without bundling any Lambda code), or read from
 * an existing cloud assembly directory such as `cdk.out`.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClusterSetting } from '#shared/domain/clusters';
import type { CloudAssemblyTemplates, TemplateStack } from './template-policies.ts';

export interface SynthesizeOptions {
  /** @default 'dev' */
  readonly stage?: string;
  /** The CDK context `clusters` (docs/clusters.md). @default - one cluster, `primary` */
  readonly clusters?: readonly ClusterSetting[];
}

/**
 * Synthesizes the Tenantry app into a temporary directory (removed afterwards) and returns its
 * stack templates. `buildApp({ bundle: false })` sets the CDK context `aws:cdk:bundling-stacks`
 * to `[]`, so no stack bundles: `NodejsFunction` stages a placeholder asset instead of running
 * esbuild. CDK's own template validation is off (`npm run synth` runs cfn-lint instead); the
 * cdk-nag checks run as always.
 */
export async function synthesizeAssembly(options: SynthesizeOptions = {}): Promise<CloudAssemblyTemplates> {
  // Loaded on demand: the CDK takes seconds to import, and only synthesis needs it.
  const { buildApp } = await import('#infra/app');
  const outdir = await mkdtemp(path.join(tmpdir(), 'tenantry-iam-assembly-'));
  try {
    const { app } = buildApp({
      stage: options.stage ?? 'dev',
      bundle: false,
      outdir,
      cloudFormationValidation: false,
      ...(options.clusters ? { clusters: options.clusters } : {}),
    });
    const assembly = app.synth();
    return { stacks: assembly.stacks.map((stack) => ({ name: stack.stackName, template: stack.template })) };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

interface Manifest {
  readonly artifacts?: Readonly<
    Record<
      string,
      { readonly type?: string; readonly properties?: { templateFile?: string; stackName?: string } }
    >
  >;
}

/**
 * The stack templates of an existing cloud assembly directory, by its `manifest.json`.
 * https://docs.aws.amazon.com/cdk/v2/guide/apps.html#apps-cloudassembly
 */
export async function readAssembly(dir: string): Promise<CloudAssemblyTemplates> {
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const stacks: TemplateStack[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template: unknown = JSON.parse(
      await readFile(path.join(dir, artifact.properties.templateFile), 'utf8'),
    );
    stacks.push({ name: artifact.properties.stackName ?? id, template });
  }
  return { stacks };
}
