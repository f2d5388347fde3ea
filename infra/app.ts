import { pathToFileURL } from 'node:url';
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as z from 'zod';
import { clustersFromContext } from '#infra/clusters-context';
import { CONSOLE_BUILD_DIR, consoleAssetsDir } from '#infra/console-assets';
import type { TenantryFunction } from '#infra/constructs/tenantry-function';
import { applyNagSuppressions } from '#infra/nag';
import { tenantPlansFromContext } from '#infra/plans-context';
import { ApiFunctionsStack, routeFunctionGroups, stackSuffixFor } from '#infra/stacks/api-functions-stack';
import { ApiStack } from '#infra/stacks/api-stack';
import { ConsoleContentStack } from '#infra/stacks/console-content-stack';
import { ConsoleStack } from '#infra/stacks/console-stack';
import { EventsStack } from '#infra/stacks/events-stack';
import { IdentityStack, type PlatformMfa } from '#infra/stacks/identity-stack';
import { ProvisioningStack } from '#infra/stacks/provisioning-stack';
import { StatefulStack } from '#infra/stacks/stateful-stack';
import { stagePolicy } from '#infra/stage-policy';
import type { TenantryApp } from '#infra/tenantry-app';
import { backupScheduleFromContext } from '#shared/backups/schedule-settings';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '#shared/composition/record-services';
import { routeGroups } from '#shared/routes/table';

export type { TenantryApp } from '#infra/tenantry-app';

export const stageSchema = z
  .string({ error: 'the CDK context value "stage" is required (-c stage=dev)' })
  .regex(
    /^[a-z][a-z0-9-]{1,10}$/,
    // 11 characters at most: a tenant secret's ARN names the stage and must fit the Data API's
    // 100-character secretArn (shared/provisioning/names.ts).
    'must start with a lower-case letter, followed by 1 to 10 lower-case letters, digits or hyphens',
  );

export class InvalidStageError extends Error {
  constructor(value: unknown, reason: string) {
    super(`Invalid stage ${JSON.stringify(value)}: ${reason}`);
    this.name = 'InvalidStageError';
  }
}

/** Validates a stage name (it becomes part of stack, bus, pool and secret names). */
export function parseStage(value: unknown): string {
  const result = stageSchema.safeParse(value);
  if (!result.success) {
    throw new InvalidStageError(value, result.error.issues.map((issue) => issue.message).join('; '));
  }
  return result.data;
}

/** `-c platformMfa=required|optional` (docs/identity-and-access.md, "MFA for platform staff"). */
export function parsePlatformMfa(value: unknown): PlatformMfa {
  if (value === undefined) return 'optional';
  if (value === 'required' || value === 'optional') return value;
  throw new Error(`Invalid platformMfa ${JSON.stringify(value)}: must be "required" or "optional"`);
}

export interface BuildAppOptions {
  /**
   * Stage name.
   * @default - the `stage` context value (`-c stage=...`, or cdk.json)
   */
  readonly stage?: string;
  /**
   * Bundle the functions with esbuild, and deploy the web console's build (web/dist, which must
   * exist). Tests that only inspect templates turn it off to save time; CDK then stages an empty
   * placeholder asset per function, and a placeholder index.html for the console.
   * @default true
   */
  readonly bundle?: boolean;
  /**
   * The web console's build, deployed when `bundle` is on (synthesis fails without its index.html).
   * @default `<repo>/web/dist` (`npm run web:build`)
   */
  readonly consoleDir?: string;
  /**
   * Cloud assembly directory.
   * @default - the CLI's, or a temporary directory
   */
  readonly outdir?: string;
  /**
   * CDK's built-in CloudFormation template validation during synthesis. `npm run synth` runs
   * cfn-lint on the same templates, so tests turn this off to save about 1.5 s per synthesis.
   * @default true
   */
  readonly cloudFormationValidation?: boolean;
  /**
   * Whether platform-admin and finance users need a second factor for their groups.
   * @default - the `platformMfa` context value, else 'optional'
   */
  readonly platformMfa?: PlatformMfa;
  /**
   * The plan catalogue and the default plan (`TENANT_PLANS`, docs/plans-and-quotas.md).
   * @default - the `plans` and `defaultPlan` context values, else the default catalogue
   */
  readonly plans?: { readonly plans?: unknown; readonly defaultPlan?: unknown };
  /**
   * The daily backup job's switch and hour (docs/backups.md, "Schedule and retention").
   * @default - the `backupSchedule` context value, else scheduled backups at 02:15 UTC
   */
  readonly backupSchedule?: unknown;
  /**
   * The database clusters: a count or a list of `{id, name, capacity}` (docs/clusters.md).
   * @default - the `clusters` context value, else one cluster `primary`
   */
  readonly clusters?: unknown;
}

/**
 * The Tenantry CDK app. Environment-agnostic: no account or region is fixed here, the CLI's
 * credentials decide at deploy time, so `cdk synth` needs no AWS access and no lookups happen.
 */
export function buildApp(options: BuildAppOptions = {}): TenantryApp {
  const app = new App({
    // The entry point below synthesises explicitly; CDK's default (synthesise again on the
    // process's `beforeExit` whenever CDK_OUTDIR is set) would also write late for apps a test
    // built but never synthesised, into an assembly folder already removed.
    autoSynth: false,
    ...(options.outdir ? { outdir: options.outdir } : {}),
    builtinCloudFormationValidation: options.cloudFormationValidation ?? true,
    context: {
      // Strong references: CloudFormation refuses to delete a table, bus or pool a compute stack
      // still uses. Explicit, so the choice survives CDK's future default change.
      '@aws-cdk/core:defaultCrossStackReferences': 'strong',
      // Server access logs are granted by bucket policy, so the log bucket can disable ACLs.
      '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
  const stage = parseStage(options.stage ?? app.node.tryGetContext('stage'));
  // Before any function is bundled: a missing console build fails synthesis at once.
  const consoleDir = consoleAssetsDir(options.bundle ?? true, options.consoleDir ?? CONSOLE_BUILD_DIR);
  const policy = stagePolicy(stage);
  const tenantPlans = tenantPlansFromContext(
    options.plans ? options.plans.plans : app.node.tryGetContext('plans'),
    options.plans ? options.plans.defaultPlan : app.node.tryGetContext('defaultPlan'),
  );
  // One number for the audit consumer that sets records' expiry and the compliance report that states it.
  const auditRetentionDays = DEFAULT_AUDIT_RETENTION_DAYS;
  const clusters = clustersFromContext(options.clusters ?? app.node.tryGetContext('clusters'));
  const stackName = (name: string) => `Tenantry-${stage}-${name}`;
  const description = (what: string) => `Tenantry (${stage}): ${what}`;

  const stateful = new StatefulStack(app, stackName('Stateful'), {
    stage,
    policy,
    description: description('network, Aurora cluster, tables, event bus, exports bucket'),
    clusters,
  });
  const provisioning = new ProvisioningStack(app, stackName('Provisioning'), {
    stage,
    policy,
    description: description('tenant provisioning workflow'),
    cluster: stateful.cluster,
    clusters: stateful.clusters,
    controlAppSecret: stateful.controlAppSecret,
    poolAppSecret: stateful.poolAppSecret,
    eventBus: stateful.eventBus,
    exportsBucket: stateful.exportsBucket,
    backupsKey: stateful.backupsKey,
    tenantPlans,
  });
  const identity = new IdentityStack(app, stackName('Identity'), {
    stage,
    policy,
    description: description('Cognito user pool and triggers'),
    cluster: stateful.cluster,
    clusters: stateful.clusters,
    controlAppSecret: stateful.controlAppSecret,
    provisioningWorkflow: provisioning.stateMachine,
    platformMfa: parsePlatformMfa(options.platformMfa ?? app.node.tryGetContext('platformMfa')),
    tenantPlans,
  });
  const events = new EventsStack(app, stackName('Events'), {
    stage,
    policy,
    description: description('event consumers, audit archive, dead-letter queues and alarms'),
    tenantPlans,
    auditRetentionDays,
    eventBus: stateful.eventBus,
    auditTable: stateful.auditTable,
    usageTable: stateful.usageTable,
    cluster: stateful.cluster,
    clusters: stateful.clusters,
    controlAppSecret: stateful.controlAppSecret,
    tenantAccessRole: provisioning.tenantAccessRole,
    exportsBucket: stateful.exportsBucket,
    auditArchiveBucket: stateful.auditArchiveBucket,
    backupsKey: stateful.backupsKey,
    provisioningWorkflow: provisioning.stateMachine,
    backupSchedule: backupScheduleFromContext(
      options.backupSchedule ?? app.node.tryGetContext('backupSchedule'),
    ),
  });
  // The route functions, one stack per route group (CloudFormation's 500 resources per stack).
  const apiFunctions = routeFunctionGroups(routeGroups).map(
    ({ group, routes }) =>
      new ApiFunctionsStack(app, stackName(`ApiFunctions-${stackSuffixFor(group)}`), {
        stage,
        policy,
        description: description(`route functions of the ${group} routes`),
        routes,
        resources: {
          stage,
          cluster: stateful.cluster,
          clusters: stateful.clusters,
          controlAppSecret: stateful.controlAppSecret,
          tenantAccessRole: provisioning.tenantAccessRole,
          eventBus: stateful.eventBus,
          telemetryDeadLetterQueue: events.telemetryDeadLetterQueue,
          auditTable: stateful.auditTable,
          usageTable: stateful.usageTable,
          limitsTable: stateful.limitsTable,
          provisioningWorkflow: provisioning.stateMachine,
          exportsBucket: stateful.exportsBucket,
          backupsKey: stateful.backupsKey,
          userPool: identity.userPool,
          tenantPlans,
          auditRetentionDays,
        },
      }),
  );
  const routeFunctions = new Map<string, TenantryFunction>(
    apiFunctions.flatMap((stack) => [...stack.functions]),
  );
  // The web console (docs/console-hosting.md): bucket and distribution before the API, whose one
  // CORS origin is the distribution's; the files and config.json (which names the API) after it.
  const webConsole = new ConsoleStack(app, stackName('Console'), {
    stage,
    policy,
    description: description('web console bucket and CloudFront distribution'),
  });
  const api = new ApiStack(app, stackName('Api'), {
    stage,
    policy,
    description: description('HTTP API, its routes and integrations'),
    userPool: identity.userPool,
    userPoolClient: identity.userPoolClient,
    functions: new Map([...routeFunctions].map(([handler, fn]) => [handler, fn.function])),
    // Built after the events stack: its lost-telemetry alarm notifies the operators' topic.
    alarmTopic: events.alarmTopic,
    corsAllowOrigins: [webConsole.origin],
  });
  const webConsoleContent = new ConsoleContentStack(app, stackName('ConsoleContent'), {
    stage,
    policy,
    description: description('web console files and config.json, uploaded at deploy time'),
    bucket: webConsole.bucket,
    distribution: webConsole.distribution,
    consoleDir,
    apiUrl: api.httpApi.apiEndpoint,
    userPool: identity.userPool,
    userPoolClient: identity.userPoolClient,
  });

  Tags.of(app).add('tenantry:stage', stage);
  Tags.of(app).add('tenantry:app', 'tenantry');

  const stacks = [
    stateful,
    provisioning,
    identity,
    events,
    ...apiFunctions,
    api,
    webConsole,
    webConsoleContent,
  ];
  const built = {
    app,
    stage,
    policy,
    stacks,
    stateful,
    provisioning,
    identity,
    apiFunctions,
    routeFunctions,
    api,
    events,
    webConsole,
    webConsoleContent,
  };
  applyNagSuppressions(built);
  const nag = new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true });
  Validations.of(app).addPlugins(nag);
  return { ...built, nag };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildApp().app.synth();
}
