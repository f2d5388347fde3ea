import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '#infra/constructs/tenantry-function';

/** Where the web console's build (`web/`, its own package) puts index.html and assets/. */
export const CONSOLE_BUILD_DIR = path.join(repoRoot, 'web', 'dist');

export class ConsoleBuildMissingError extends Error {
  constructor(dir: string) {
    super(`web/dist is missing: run npm run web:build (looked for ${path.join(dir, 'index.html')})`);
    this.name = 'ConsoleBuildMissingError';
  }
}

/**
 * The folder the console stack deploys to its bucket. With `bundle` (what `cdk synth` and
 * `cdk deploy` do) it is the console's build, and synthesis fails when there is none: deploying
 * an empty console would only replace a working one. Without `bundle` (template tests and the
 * local platform's in-process synthesis, which bundle no function either) it is a placeholder
 * folder with one index.html (infra/console-placeholder), so the asset's hash and the templates
 * stay stable and no web build is needed.
 */
export function consoleAssetsDir(bundle: boolean, buildDir: string = CONSOLE_BUILD_DIR): string {
  if (!bundle) return placeholderDir();
  const index = path.join(buildDir, 'index.html');
  if (!existsSync(index) || !statSync(index).isFile()) throw new ConsoleBuildMissingError(buildDir);
  return buildDir;
}

/** A folder in the repository with one index.html: nothing is written to make it. */
const PLACEHOLDER_DIR = path.join(repoRoot, 'infra', 'console-placeholder');

function placeholderDir(): string {
  return PLACEHOLDER_DIR;
}
