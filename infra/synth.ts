/**
 * `npm run synth`: synthesises every stack offline, then fails on any cdk-nag finding that is
 * not acknowledged in infra/nag.ts (errors and warnings alike), on any construct annotation
 * error or warning, and on cfn-lint errors when cfn-lint is installed.
 *
 * Offline: the app is environment-agnostic and does no lookups, so no credentials are needed;
 * the dummy region only keeps SDK code paths from probing for one, and notices and telemetry
 * (the CLI's only network calls during synth) are switched off.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '#infra/constructs/tenantry-function';

const stage = process.env.STAGE ?? 'dev';
// `CLUSTERS=2 npm run synth` lints the templates of a deployment with several clusters (docs/clusters.md).
const clusters = process.env.CLUSTERS;
const outdir = path.join(repoRoot, 'cdk.out');
const started = Date.now();
const failures: string[] = [];

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

// 1. cdk synth, into a clean directory so no other stage's templates are linted or counted
rmSync(outdir, { recursive: true, force: true });
const synthStarted = Date.now();
const synth = spawnSync(
  'npx',
  [
    'cdk',
    'synth',
    '--quiet',
    '--no-notices',
    '-c',
    `stage=${stage}`,
    ...(clusters ? ['-c', `clusters=${clusters}`] : []),
    '--output',
    outdir,
  ],
  {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      CDK_DEFAULT_REGION: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    },
  },
);
if (synth.status !== 0) failures.push(`cdk synth exited with ${synth.status ?? synth.signal}`);
const synthTime = seconds(synthStarted);

const templates = existsSync(outdir)
  ? readdirSync(outdir)
      .filter((file) => file.endsWith('.template.json'))
      .map((file) => path.join(outdir, file))
  : [];
if (synth.status === 0 && templates.length === 0) failures.push('cdk synth produced no templates');

// 2. Validation report (cdk-nag runs as a CDK validation plugin and reports here).
interface Violation {
  ruleName: string;
  severity: string;
  description: string;
  violatingConstructs?: { constructPath?: string }[];
}
interface ValidationReport {
  pluginReports?: { pluginName: string; violations: Violation[] }[];
}
const reportFile = path.join(outdir, 'validation-report.json');
let nagFindings = 0;
let otherWarnings = 0;
if (existsSync(reportFile)) {
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ValidationReport;
  for (const plugin of report.pluginReports ?? []) {
    for (const violation of plugin.violations) {
      const where = (violation.violatingConstructs ?? []).map((c) => c.constructPath).join(', ');
      const line = `${plugin.pluginName} ${violation.severity} ${violation.ruleName} at ${where}`;
      if (plugin.pluginName.startsWith('AwsSolutions') || violation.severity !== 'warning') {
        nagFindings += plugin.pluginName.startsWith('AwsSolutions') ? 1 : 0;
        failures.push(line);
      } else {
        otherWarnings++;
        console.warn(`warning: ${line}`);
      }
    }
  }
}

// Annotations (Annotations.of(...).addError/addWarning) land in the stack metadata.
let acknowledgements = 0;
for (const file of existsSync(outdir) ? readdirSync(outdir) : []) {
  if (!file.endsWith('.metadata.json')) continue;
  const metadata = JSON.parse(readFileSync(path.join(outdir, file), 'utf8')) as Record<
    string,
    { type: string; data: unknown }[]
  >;
  for (const [constructPath, entries] of Object.entries(metadata)) {
    for (const entry of entries) {
      if (entry.type === 'aws:cdk:error' || entry.type === 'aws:cdk:warning') {
        failures.push(`${entry.type} at ${constructPath}: ${String(entry.data)}`);
      }
    }
  }
}
for (const template of templates) {
  const resources = (
    JSON.parse(readFileSync(template, 'utf8')) as {
      Resources?: Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress?: unknown[] } } }>;
    }
  ).Resources;
  for (const resource of Object.values(resources ?? {})) {
    acknowledgements += resource.Metadata?.cdk_nag?.rules_to_suppress?.length ?? 0;
  }
}

// 3. cfn-lint
let cfnLint = 'skipped (cfn-lint not on PATH)';
const lintStarted = Date.now();
const which = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
if (which.error || which.status !== 0) {
  console.log('note: cfn-lint is not installed; skipping the template lint');
} else if (templates.length > 0) {
  // W3005: CDK puts an explicit DependsOn on a function's role next to the GetAtt that already
  // implies it; redundant and harmless, and not ours to change.
  const lint = spawnSync(
    'cfn-lint',
    ['--format', 'parseable', '--ignore-checks', 'W3005', '--', ...templates],
    {
      encoding: 'utf8',
    },
  );
  const lines = `${lint.stdout ?? ''}`.split('\n').filter((line) => line.trim() !== '');
  // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
  const status = lint.status ?? 1;
  const errors = lines.filter((line) => /:E\d{4}:/.test(line));
  const warnings = lines.filter((line) => /:W\d{4}:/.test(line));
  for (const line of warnings) console.warn(`cfn-lint warning: ${line}`);
  if ((status & 2) !== 0 || errors.length > 0 || (status !== 0 && lines.length === 0)) {
    failures.push(...errors.map((line) => `cfn-lint: ${line}`));
    if (errors.length === 0) failures.push(`cfn-lint failed (exit ${status}): ${lint.stderr ?? ''}`.trim());
  }
  cfnLint = `${errors.length} errors, ${warnings.length} warnings (${seconds(lintStarted)})`;
}

console.log('');
console.log(`Tenantry synth (stage ${stage})`);
console.log(
  `  cdk synth:  ${synth.status === 0 ? 'ok' : 'FAILED'}, ${templates.length} templates (${synthTime})`,
);
console.log(
  `  cdk-nag:    ${nagFindings} unacknowledged AwsSolutions findings; ${acknowledgements} acknowledged (reasons in infra/nag.ts)`,
);
if (otherWarnings > 0) console.log(`  validation: ${otherWarnings} non-cdk-nag warnings`);
console.log(`  cfn-lint:   ${cfnLint}`);
console.log(`  total:      ${seconds(started)}`);
if (failures.length > 0) {
  console.error(`\nsynth failed:\n${failures.map((failure) => `  - ${failure}`).join('\n')}`);
  process.exit(1);
}
