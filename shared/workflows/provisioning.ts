/**
 * The tenant lifecycle state machine, defined once. CDK substitutes each step's Lambda ARN; the
 * local platform runs the same definition with `aws-local-stepfunctions`, mapping each step's
 * resource to the same handler module.
 *
 * One machine, its operations chosen by `$.operation`:
 * - `provision` — place, secret, role + database, baseline schema, (with `restore`: the backup's
 *   tables, verified — docs/backups.md), activate; any failure runs the
 *   compensation, which removes what was made and records why; if the compensation fails too, the
 *   failure is still recorded (`failed`, with both errors' names) and the execution fails;
 * - `dropDatabase` — drops one of the tenant's extra databases;
 * - `offboard` — offboards the tenant and every tenant below it that is not offboarded yet, leaves
 *   first (a Map of levels, one at a time, deepest first, each a Map of that level's tenants): each
 *   one's databases, role, secret and memberships go; a tenant whose children remain is refused;
 * - `upgradeModule` — brings every tenant database that has a module up to its latest version, in
 *   waves (a Map of waves, one at a time, each a Map of databases in parallel); a database whose
 *   upgrade fails is caught inside the wave and recorded, and the others carry on;
 * - `move` — copies databases to another cluster or isolation, freezes writes, verifies, switches
 *   and drops the sources; any failure before the switch rolls back (shared/workflows/move-states.ts);
 * - `backup` — plans the databases, backs each up (a Map, BACKUP_CONCURRENCY at a time) into the
 *   backup store, then writes the manifest and completes the backup; any failure fails the backup
 *   and deletes its objects (shared/tenancy/backup-steps.ts).
 * Every step is idempotent: a retried step, or the whole workflow run again, makes one of everything.
 */

import type { Need } from '#shared/domain/needs';
import { cloneStates } from '#shared/workflows/clone-states';
import { moveStates } from '#shared/workflows/move-states';
import type { ProvisioningStep } from '#shared/workflows/provisioning-steps';

export { type ProvisioningStep, provisioningSteps } from '#shared/workflows/provisioning-steps';

/**
 * What each step reaches (shared/routes/needs.ts); the CDK app grants exactly this. Every step
 * reads and writes the control database as the application role. Only the steps that create or
 * drop roles and databases act as the cluster's master; the steps that run statements in a
 * tenant's database do it as that tenant (tenant-access role); only the step that makes the
 * tenant's secret and the one that sets the role's password from it read a tenant secret with
 * their own role, and only compensation and offboarding delete one.
 */
export const provisioningStepNeeds = {
  PlaceDatabase: ['controlDb'],
  EnsureTenantSecret: ['controlDb', 'tenantSecretsCreate'],
  CreateRoleAndDatabase: ['controlDb', 'clusterAdmin', 'tenantSecretsRead'],
  ApplyBaselineSchema: ['controlDb', 'tenantData'],
  RestoreDatabase: ['controlDb', 'tenantData', 'backupStore'],
  ActivateDatabase: ['controlDb', 'events'],
  CompensateProvisioning: ['controlDb', 'clusterAdmin', 'tenantSecretsDelete', 'events'],
  RecordProvisioningFailure: ['controlDb'],
  DropDatabase: ['controlDb', 'clusterAdmin'],
  PlanTenantOffboarding: ['controlDb'],
  OffboardTenant: ['controlDb', 'clusterAdmin', 'tenantSecretsDelete', 'events', 'backupStore'],
  PlanModuleUpgrade: ['controlDb'],
  LoadModuleUpgradeWave: ['controlDb'],
  UpgradeModuleDatabase: ['controlDb', 'tenantData'],
  RecordModuleUpgradeFailure: ['controlDb'],
  FinishModuleUpgrade: ['controlDb', 'events'],
  PlanBackup: ['controlDb'],
  BackupDatabase: ['controlDb', 'tenantData', 'backupStore'],
  FinishBackup: ['controlDb', 'backupStore', 'plans'],
  FailBackup: ['controlDb', 'backupStore'],
  PlanClone: ['controlDb'],
  FinishClone: ['controlDb', 'events'],
  CompensateClone: ['controlDb', 'clusterAdmin', 'tenantSecretsDelete', 'events'],
  PlanMove: ['controlDb'],
  // A copy to a silo database may make the tenant's secret (a pooled tenant has none) and reads
  // it (tenantSecretsCreate includes the read).
  CopyMoveDatabase: ['controlDb', 'clusterAdmin', 'tenantSecretsCreate', 'tenantData', 'backupStore'],
  FreezeMoveWrites: ['controlDb', 'tenantData'],
  SyncMoveDatabase: ['controlDb', 'tenantData', 'backupStore'],
  SwitchMove: ['controlDb'],
  FinishMove: ['controlDb', 'clusterAdmin', 'tenantSecretsDelete', 'backupStore'],
  CompensateMove: ['controlDb', 'clusterAdmin', 'tenantSecretsDelete', 'tenantData', 'backupStore'],
} as const satisfies Record<ProvisioningStep, readonly Need[]>;

export type ProvisioningInput =
  | {
      readonly operation: 'provision';
      readonly tenantId: string;
      readonly databaseId: string;
      /** A restore: after the baseline schema, RestoreDatabase loads this backup's database. */
      readonly restore?: { readonly backupId: string; readonly sourceDatabaseId: string };
    }
  | { readonly operation: 'dropDatabase'; readonly tenantId: string; readonly databaseId: string }
  | { readonly operation: 'offboard'; readonly tenantId: string }
  | { readonly operation: 'upgradeModule'; readonly upgradeId: string; readonly moduleId: string }
  | { readonly operation: 'backup'; readonly tenantId: string; readonly backupId: string }
  | { readonly operation: 'move'; readonly tenantId: string; readonly moveId: string }
  | {
      readonly operation: 'clone';
      readonly tenantId: string;
      readonly sourceTenantId: string;
      readonly backupId: string;
    };

/**
 * Each step's Lambda timeout where the default (60 s: a Data API statement gives up at 45 s) is too
 * short. BackupDatabase dumps a whole database in one invocation, so it has Lambda's maximum,
 * 900 s (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html): that bounds the
 * size of one database a backup can take (docs/backups.md, "Limits").
 */
export const BACKUP_DATABASE_TIMEOUT_SECONDS = 900;
export const provisioningStepTimeoutSeconds: Partial<Record<ProvisioningStep, number>> = {
  BackupDatabase: BACKUP_DATABASE_TIMEOUT_SECONDS,
  // Reads every database's description back and writes the manifest; deletes are batched by 1 000.
  FinishBackup: 300,
  FailBackup: 300,
  // A move copies a whole database in one invocation, and brings its changed tables level in one.
  CopyMoveDatabase: BACKUP_DATABASE_TIMEOUT_SECONDS,
  SyncMoveDatabase: BACKUP_DATABASE_TIMEOUT_SECONDS,
  FinishMove: 300,
  CompensateMove: 300,
};

/** How many databases of one backup are dumped at once: each holds a snapshot open on its cluster. */
export const BACKUP_CONCURRENCY = 2;

/** How many databases of one wave are upgraded at once. */
export const UPGRADE_CONCURRENCY = 5;

/** How many tenants of one level of a subtree are offboarded at once. */
export const OFFBOARD_CONCURRENCY = 5;

/**
 * The error name of a paused Aurora Serverless v2 database that the Data API is resuming
 * (`DatabaseResumingException`, as the Data API adapter names it): the statement did not run.
 */
export const DATABASE_RESUMING = 'DatabaseResuming';

/**
 * How long Aurora Serverless v2 takes to resume from 0 ACUs: "It can take up to 15 seconds for the
 * database to resume" (AWS Database Blog, "Introducing scaling to 0 capacity with Amazon Aurora
 * Serverless v2", https://aws.amazon.com/blogs/database/introducing-scaling-to-0-capacity-with-amazon-aurora-serverless-v2/;
 * auto-pause in the user guide: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html).
 * An instance paused for long can take longer, so the retrier below waits at least four times this.
 */
export const AURORA_RESUME_SECONDS = 15;

/**
 * Step Functions applies the first retrier whose ErrorEquals names the error, and counts each
 * retrier's attempts apart (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 * - A resuming database: 5, 10, 20, 30, 30 s (95 s in all, over 6 × AURORA_RESUME_SECONDS), without
 *   jitter, which would make any pause as short as 0 s
 *   (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_stepfunctions.JitterType.html).
 *   Every execution that meets the paused cluster retries on the same beat; the Data API answers
 *   them at once while it resumes.
 * - Throttling, a lost connection, a refused event: 1, 2, 4, 8 s at most, fully jittered.
 */
const transientRetry = [
  {
    ErrorEquals: [DATABASE_RESUMING],
    IntervalSeconds: 5,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    MaxAttempts: 5,
  },
  {
    ErrorEquals: [
      'TransientError',
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
    ],
    IntervalSeconds: 1,
    MaxAttempts: 4,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
];

const PROVISION_ORDER: ProvisioningStep[] = [
  'PlaceDatabase',
  'EnsureTenantSecret',
  'CreateRoleAndDatabase',
  'ApplyBaselineSchema',
  'ActivateDatabase',
];

/** Amazon States Language for the saga. `resourceFor` names the task resource of each step. */
export function provisioningDefinition(resourceFor: (step: ProvisioningStep) => string) {
  const task = (step: ProvisioningStep, next: string | null, catchTo?: string) => ({
    Type: 'Task',
    Resource: resourceFor(step),
    // Each step reads the original input; its result is kept beside it, for the history.
    ResultPath: `$.results.${step}`,
    Retry: transientRetry,
    ...(catchTo ? { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: catchTo }] } : {}),
    ...(next ? { Next: next } : { End: true }),
  });
  const provisionStates = Object.fromEntries(
    PROVISION_ORDER.map((step, i) => [
      step,
      task(step, PROVISION_ORDER[i + 1] ?? null, 'CompensateProvisioning'),
    ]),
  );
  // A restore is a provisioning with one more step: the same placement, secret, role, database,
  // baseline and compensation, and its execution shown where any provisioning is.
  provisionStates.ApplyBaselineSchema = task(
    'ApplyBaselineSchema',
    'RestoreOrActivate',
    'CompensateProvisioning',
  );
  return {
    Comment: 'Tenant lifecycle saga: every step idempotent, every provisioning failure compensated',
    StartAt: 'Operation',
    States: {
      Operation: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.operation', StringEquals: 'provision', Next: 'PlaceDatabase' },
          { Variable: '$.operation', StringEquals: 'dropDatabase', Next: 'DropDatabase' },
          { Variable: '$.operation', StringEquals: 'offboard', Next: 'PlanTenantOffboarding' },
          { Variable: '$.operation', StringEquals: 'upgradeModule', Next: 'PlanModuleUpgrade' },
          { Variable: '$.operation', StringEquals: 'backup', Next: 'PlanBackup' },
          { Variable: '$.operation', StringEquals: 'clone', Next: 'CloneBackupPlan' },
          { Variable: '$.operation', StringEquals: 'move', Next: 'PlanMove' },
        ],
        Default: 'UnknownOperation',
      },
      ...provisionStates,
      // `IsPresent` (a JSONPath Choice Rule) tests whether the input has `restore` at all
      // (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html).
      RestoreOrActivate: {
        Type: 'Choice',
        Choices: [{ Variable: '$.restore', IsPresent: true, Next: 'RestoreDatabase' }],
        Default: 'ActivateDatabase',
      },
      RestoreDatabase: task('RestoreDatabase', 'ActivateDatabase', 'CompensateProvisioning'),
      CompensateProvisioning: {
        ...task('CompensateProvisioning', 'ProvisioningFailed'),
        ResultPath: '$.compensation',
        // A compensation that fails (after its retries) must not leave the tenant provisioning.
        Catch: [
          {
            ErrorEquals: ['States.ALL'],
            ResultPath: '$.compensationError',
            Next: 'RecordProvisioningFailure',
          },
        ],
      },
      ProvisioningFailed: {
        Type: 'Fail',
        Error: 'ProvisioningFailed',
        Cause: 'Provisioning failed and was compensated',
      },
      RecordProvisioningFailure: {
        ...task('RecordProvisioningFailure', 'CompensationFailed'),
        ResultPath: '$.compensation',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.recordError', Next: 'CompensationFailed' }],
      },
      CompensationFailed: {
        Type: 'Fail',
        Error: 'CompensationFailed',
        Cause: 'Provisioning failed and so did its compensation: what was made may remain',
      },
      DropDatabase: task('DropDatabase', null),
      PlanTenantOffboarding: { ...task('PlanTenantOffboarding', 'OffboardLevels'), ResultPath: '$.plan' },
      OffboardLevels: {
        Type: 'Map',
        Comment:
          'Deepest level first, one level at a time: a tenant is offboarded only once its children are',
        ItemsPath: '$.plan.levels',
        MaxConcurrency: 1,
        ItemProcessor: {
          StartAt: 'OffboardLevelTenants',
          States: {
            OffboardLevelTenants: {
              Type: 'Map',
              ItemsPath: '$.tenants',
              MaxConcurrency: OFFBOARD_CONCURRENCY,
              ItemProcessor: {
                StartAt: 'OffboardTenant',
                // A failure fails the level and the execution: the tenants above stay `deleting`
                // (every route refused), and asking again runs the next attempt, which plans what is left.
                States: { OffboardTenant: task('OffboardTenant', null) },
              },
              ResultPath: null,
              End: true,
            },
          },
        },
        // Each tenant's outcome is its status in the control database; the payload stays small.
        ResultPath: null,
        End: true,
      },
      PlanModuleUpgrade: { ...task('PlanModuleUpgrade', 'UpgradeWaves'), ResultPath: '$.plan' },
      UpgradeWaves: {
        Type: 'Map',
        Comment:
          'One wave after another; a wave ends when each of its databases is upgraded or recorded as failed',
        ItemsPath: '$.plan.waves',
        MaxConcurrency: 1,
        ItemSelector: {
          'upgradeId.$': '$.upgradeId',
          'moduleId.$': '$.moduleId',
          'wave.$': '$$.Map.Item.Value',
        },
        ItemProcessor: {
          StartAt: 'LoadModuleUpgradeWave',
          States: {
            LoadModuleUpgradeWave: {
              ...task('LoadModuleUpgradeWave', 'UpgradeWaveDatabases'),
              ResultPath: '$.batch',
            },
            UpgradeWaveDatabases: {
              Type: 'Map',
              ItemsPath: '$.batch.targets',
              MaxConcurrency: UPGRADE_CONCURRENCY,
              ItemProcessor: {
                StartAt: 'UpgradeModuleDatabase',
                States: {
                  UpgradeModuleDatabase: {
                    ...task('UpgradeModuleDatabase', null),
                    ResultPath: '$.result',
                    // A failed database is recorded and the wave goes on: one tenant never stops the others.
                    Catch: [
                      {
                        ErrorEquals: ['States.ALL'],
                        ResultPath: '$.error',
                        Next: 'RecordModuleUpgradeFailure',
                      },
                    ],
                  },
                  RecordModuleUpgradeFailure: {
                    ...task('RecordModuleUpgradeFailure', null),
                    ResultPath: '$.result',
                  },
                },
              },
              ResultPath: null,
              End: true,
            },
          },
        },
        // Outcomes live in the control database; the execution's payload stays small.
        ResultPath: null,
        Next: 'FinishModuleUpgrade',
      },
      FinishModuleUpgrade: { ...task('FinishModuleUpgrade', null), ResultPath: '$.summary' },
      PlanBackup: { ...task('PlanBackup', 'BackupDatabases', 'FailBackup'), ResultPath: '$.plan' },
      BackupDatabases: {
        Type: 'Map',
        Comment: 'Each database in its own snapshot, a few at a time; parts and descriptions go to the store',
        ItemsPath: '$.plan.databases',
        MaxConcurrency: BACKUP_CONCURRENCY,
        ItemSelector: {
          'tenantId.$': '$.tenantId',
          'backupId.$': '$.backupId',
          'databaseId.$': '$$.Map.Item.Value.databaseId',
        },
        ItemProcessor: {
          StartAt: 'BackupDatabase',
          States: { BackupDatabase: { ...task('BackupDatabase', null), ResultPath: '$.summary' } },
        },
        // A few numbers per database (BackupDatabase's summary), whatever the tables hold.
        ResultPath: '$.databases',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FailBackup' }],
        Next: 'FinishBackup',
      },
      FinishBackup: { ...task('FinishBackup', null, 'FailBackup'), ResultPath: '$.summary' },
      FailBackup: {
        ...task('FailBackup', 'BackupFailed'),
        ResultPath: '$.cleanup',
        // Even if the cleanup fails, the execution fails (the backup is already marked failed first).
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.cleanupError', Next: 'BackupFailed' }],
      },
      BackupFailed: {
        Type: 'Fail',
        Error: 'BackupFailed',
        Cause: 'The backup failed; its objects were deleted',
      },
      ...cloneStates(task, BACKUP_CONCURRENCY),
      ...moveStates(task),
      UnknownOperation: {
        Type: 'Fail',
        Error: 'UnknownOperation',
        Cause: 'operation must be provision, dropDatabase, offboard, upgradeModule, backup, clone or move',
      },
    },
  };
}
