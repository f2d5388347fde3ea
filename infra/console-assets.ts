import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
 * folder with one index.html, the same content every time, so the asset's hash and the templates
 * stay stable and no web build is needed.
 */
export function consoleAssetsDir(bundle: boolean, buildDir: string = CONSOLE_BUILD_DIR): string {
  if (!bundle) return placeholderDir();
  const index = path.join(buildDir, 'index.html');
  if (!existsSync(index) || !statSync(index).isFile()) throw new ConsoleBuildMissingError(buildDir);
  return buildDir;
}

const PLACEHOLDER_HTML =
  '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Tenantry</title></head>' +
  '<body><p>Placeholder: synthesized without the console build (bundle: false).</p></body></html>\n';

let placeholder: string | undefined;

function placeholderDir(): string {
  if (placeholder) return placeholder;
  // One folder per process (tests synthesize the app many times); the path is not part of the
  // asset's hash, only the files' names and contents are.
  const dir = path.join(tmpdir(), `tenantry-console-placeholder-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), PLACEHOLDER_HTML);
  placeholder = dir;
  return dir;
}
