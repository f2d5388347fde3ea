/**
 * The tenant lifecycle state machine, defined once. CDK substitutes each step's Lambda ARN; the
 * local platform runs the same definition with `aws-local-stepfunctions`, mapping each step's
 * resource to the same handler module.
 *
 * One machine, four operations chosen by `$.operation`:
 * - `provision` — place, secret, role + database, baseline schema, activate; any failure runs the
 *   compensation, which removes what was made and records why;
 * - `dropDatabase` — drops one of the tenant's extra databases;
 * - `offboard` — drops every database, the role, the secret and the memberships;
 * - `upgradeModule` — brings every tenant database that has a module up to its latest version, in
 *   waves (a Map of waves, one at a time, each a Map of databases in parallel); a database whose
 *   upgrade fails is caught inside the wave and recorded, and the others carry on.
 * Every step is idempotent: a retried step, or the whole workflow run again, makes one of everything.
 */
export const provisioningSteps = {
  PlaceDatabase: 'provisioning/place-database',
  EnsureTenantSecret: 'provisioning/ensure-tenant-secret',
  CreateRoleAndDatabase: 'provisioning/create-role-and-database',
  ApplyBaselineSchema: 'provisioning/apply-baseline-schema',
  ActivateDatabase: 'provisioning/activate-database',
  CompensateProvisioning: 'provisioning/compensate-provisioning',
  DropDatabase: 'provisioning/drop-database',
  OffboardTenant: 'provisioning/offboard-tenant',
  PlanModuleUpgrade: 'provisioning/plan-module-upgrade',
  LoadModuleUpgradeWave: 'provisioning/load-module-upgrade-wave',
  UpgradeModuleDatabase: 'provisioning/upgrade-module-database',
  RecordModuleUpgradeFailure: 'provisioning/record-module-upgrade-failure',
  FinishModuleUpgrade: 'provisioning/finish-module-upgrade',
} as const;
export type ProvisioningStep = keyof typeof provisioningSteps;

export type ProvisioningInput =
  | { readonly operation: 'provision'; readonly tenantId: string; readonly databaseId: string }
  | { readonly operation: 'dropDatabase'; readonly tenantId: string; readonly databaseId: string }
  | { readonly operation: 'offboard'; readonly tenantId: string }
  | { readonly operation: 'upgradeModule'; readonly upgradeId: string; readonly moduleId: string };

/** How many databases of one wave are upgraded at once. */
export const UPGRADE_CONCURRENCY = 5;

/** Errors worth another attempt: a resuming cluster, throttling, a lost connection. */
const transientRetry = [
  {
    ErrorEquals: [
      'TransientError',
      'DatabaseResuming',
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
  return {
    Comment: 'Tenant lifecycle saga: every step idempotent, every provisioning failure compensated',
    StartAt: 'Operation',
    States: {
      Operation: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.operation', StringEquals: 'provision', Next: 'PlaceDatabase' },
          { Variable: '$.operation', StringEquals: 'dropDatabase', Next: 'DropDatabase' },
          { Variable: '$.operation', StringEquals: 'offboard', Next: 'OffboardTenant' },
          { Variable: '$.operation', StringEquals: 'upgradeModule', Next: 'PlanModuleUpgrade' },
        ],
        Default: 'UnknownOperation',
      },
      ...provisionStates,
      CompensateProvisioning: {
        ...task('CompensateProvisioning', 'ProvisioningFailed'),
        ResultPath: '$.compensation',
      },
      ProvisioningFailed: {
        Type: 'Fail',
        Error: 'ProvisioningFailed',
        Cause: 'Provisioning failed and was compensated',
      },
      DropDatabase: task('DropDatabase', null),
      OffboardTenant: task('OffboardTenant', null),
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
      UnknownOperation: {
        Type: 'Fail',
        Error: 'UnknownOperation',
        Cause: 'operation must be provision, dropDatabase, offboard or upgradeModule',
      },
    },
  };
}
