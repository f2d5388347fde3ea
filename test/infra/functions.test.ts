import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type TenantryApp } from '#infra/app';
import { RECORD_JOB_HANDLERS } from '#infra/constructs/record-jobs';
import { subscriptions } from '#shared/events/subscriptions';
import { routeList } from '#shared/routes/table';
import { provisioningSteps } from '#shared/workflows/provisioning';

interface LambdaFunction {
  Properties: {
    Runtime?: string;
    Architectures?: string[];
    Handler?: string;
    Code?: unknown;
    TracingConfig?: { Mode: string };
    Environment?: { Variables: Record<string, unknown> };
    LoggingConfig?: { LogGroup: unknown };
    /** A string for our functions; CDK's auto-delete provider joins in its bucket's name. */
    Description?: unknown;
  };
}

describe('Lambda functions of every stack', () => {
  let built: TenantryApp;
  let stacks: Stack[];
  /**
   * Every TenantryFunction: all functions but CDK's own (the provider framework, bucket
   * auto-delete, the console's bucket deployment).
   */
  let functions: { stack: string; id: string; fn: LambdaFunction }[];
  let frameworkFunctions: { stack: string; id: string; fn: LambdaFunction }[];
  let autoDeleteFunctions: { stack: string; id: string; fn: LambdaFunction }[];
  let bucketDeploymentFunctions: { stack: string; id: string; fn: LambdaFunction }[];
  let outdir: string;
  let consoleDir: string;

  beforeAll(() => {
    // Arrange: the one test file that really bundles with esbuild, so a handler that does not
    // resolve (e.g. a broken `#shared/*` import) fails here
    outdir = mkdtempSync(path.join(tmpdir(), 'tenantry-cdk-'));
    // Bundling also deploys the console's build; a one-file stand-in keeps web/dist out of it.
    consoleDir = mkdtempSync(path.join(tmpdir(), 'tenantry-console-'));
    writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>Tenantry</title>\n');
    built = buildApp({ stage: 'dev', outdir, consoleDir, cloudFormationValidation: false });
    stacks = [...built.stacks];
    const all = stacks.flatMap((stack) =>
      Object.entries(Template.fromStack(stack).findResources('AWS::Lambda::Function')).map(([id, fn]) => ({
        stack: stack.stackName,
        id,
        fn: fn as LambdaFunction,
      })),
    );
    const isFramework = ({ fn }: { fn: LambdaFunction }) =>
      String(fn.Properties.Description).startsWith('AWS CDK resource provider framework');
    // CDK's singleton provider of `autoDeleteObjects` (dev buckets), a core CustomResourceProvider.
    const isAutoDelete = ({ id }: { id: string }) =>
      id.startsWith('CustomS3AutoDeleteObjectsCustomResourceProviderHandler');
    // CDK's BucketDeployment handler (Python and the AWS CLI), which uploads the console's files.
    const isBucketDeployment = ({ id }: { id: string }) => id.startsWith('CustomCDKBucketDeployment');
    frameworkFunctions = all.filter(isFramework);
    autoDeleteFunctions = all.filter(isAutoDelete);
    bucketDeploymentFunctions = all.filter(isBucketDeployment);
    functions = all.filter(
      (entry) => !isFramework(entry) && !isAutoDelete(entry) && !isBucketDeployment(entry),
    );
    // Bundling every function takes about a minute on 2 cores, more while the integration files
    // share them: the suite's 120 s hook timeout was met twice by a loaded machine, not by a fault.
  }, 300_000);

  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
    rmSync(consoleDir, { recursive: true, force: true });
  });

  it('covers the API handlers, both Cognito triggers, every provisioning step, every consumer and the migrator', () => {
    const descriptions = functions.map(({ fn }) => fn.Properties.Description);
    const expected = [
      ...new Set(routeList.map((route) => route.handler)),
      'identity/post-confirmation',
      'identity/pre-token-generation',
      ...Object.values(provisioningSteps),
      ...new Set(subscriptions.map((subscription) => subscription.handler)),
      'ops/migrate-control-db',
      ...Object.values(RECORD_JOB_HANDLERS),
    ];
    for (const handler of expected) expect(descriptions).toContain(`Tenantry ${handler}`);
    // The control migrations' Provider framework function is the one CDK-internal function; it
    // answers CloudFormation for the migrator and is CDK's code, not a bundle of ours.
    expect(frameworkFunctions.map(({ fn }) => fn.Properties.Description)).toEqual([
      expect.stringContaining('ControlMigrationsProvider'),
    ]);
    // On dev, the stateful and console stacks have CDK's bucket auto-delete provider (one function
    // per stack for its buckets), which empties them on `cdk destroy`; prod has none
    // (test/infra/stateful.test.ts, test/infra/console.test.ts).
    expect(autoDeleteFunctions.map(({ stack, fn }) => [stack, fn.Properties.Runtime])).toEqual([
      ['Tenantry-dev-Stateful', 'nodejs24.x'],
      ['Tenantry-dev-Console', 'nodejs24.x'],
    ]);
    // The console's files are uploaded by CDK's BucketDeployment handler, one per stack.
    expect(bucketDeploymentFunctions.map(({ stack }) => stack)).toEqual(['Tenantry-dev-ConsoleContent']);
    // No other CDK-internal functions (log retention, custom resource providers) sneak in: every
    // other function in the app is a TenantryFunction.
    expect(functions).toHaveLength(expected.length);
  });

  it('runs every function on Node.js 24 on arm64 with active tracing', () => {
    for (const { stack, id, fn } of functions) {
      expect(fn.Properties.Runtime, `${stack}/${id}`).toBe('nodejs24.x');
      expect(fn.Properties.Architectures, `${stack}/${id}`).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig, `${stack}/${id}`).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Handler, `${stack}/${id}`).toBe('index.handler');
      expect(fn.Properties.LoggingConfig?.LogGroup, `${stack}/${id}`).toBeDefined();
      expect(fn.Properties.Environment?.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    }
  });

  it('bundles each handler as a minified CommonJS module with a source map and without the AWS SDK', () => {
    const codes: string[] = [];
    for (const { stack, id, fn } of functions) {
      const s3Key = (fn.Properties.Code as { S3Key?: string } | undefined)?.S3Key ?? '';
      expect(s3Key, `${stack}/${id}`).toMatch(/^[0-9a-f]{64}\.zip$/);
      const dir = path.join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
      const bundle = path.join(dir, 'index.js');
      expect(existsSync(bundle), `${stack}/${id}`).toBe(true);
      expect(existsSync(path.join(dir, 'index.js.map')), `${stack}/${id}`).toBe(true);
      const code = readFileSync(bundle, 'utf8');
      // CommonJS, so that each adapter's SDK `require` stays inside its lazy initialiser.
      expect(code).toMatch(/^"use strict";/);
      // Minified: the exported handler is a mangled local, printed without whitespace.
      expect(code).toMatch(/handler:\(\)=>[\w$]{1,3}[,}]/);
      // The SDK stays external; the runtime provides it.
      expect(code).not.toContain('@smithy/smithy-client/dist');
      expect(statSync(bundle).size).toBeGreaterThan(0);
      codes.push(code);
    }
    // Handlers that use the SDK import it from the runtime instead of bundling it.
    expect(codes.some((code) => /require\("@aws-sdk\/client-[a-z-]+"\)/.test(code))).toBe(true);
  });

  it('keeps the log retention of the stage: one month on dev', () => {
    for (const stack of stacks) {
      for (const [, logGroup] of Object.entries(
        Template.fromStack(stack).findResources('AWS::Logs::LogGroup'),
      )) {
        expect((logGroup as { Properties: { RetentionInDays?: number } }).Properties.RetentionInDays).toBe(
          30,
        );
      }
    }
  });
});
