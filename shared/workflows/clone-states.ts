import type { ProvisioningStep } from '#shared/workflows/provisioning-steps';

/** How many databases of one clone are made and restored at a time. */
export const CLONE_CONCURRENCY = 1;

/** The order of a clone's per-database steps: a provisioning that restores (docs/backups.md, "Clone"). */
const CLONE_DATABASE_ORDER: ProvisioningStep[] = [
  'PlaceDatabase',
  'EnsureTenantSecret',
  'CreateRoleAndDatabase',
  'ApplyBaselineSchema',
  'RestoreDatabase',
  'ActivateDatabase',
];

export type TaskBuilder = (
  step: ProvisioningStep,
  next: string | null,
  catchTo?: string,
) => Record<string, unknown>;

/**
 * The `clone` operation (docs/backups.md, "Clone"): the source's fresh backup taken by the backup
 * steps (their states named apart: state names are unique in a state machine, even inside a Map
 * — https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html), the
 * source tenant given to them by `Parameters`; then the clone's databases, each made by the
 * provisioning steps and restored from that backup, one at a time; then the tenant activated. Any
 * failure of the backup fails it (its objects deleted) and, like any later failure, compensates the
 * whole clone: its databases, role and secret go, it is marked failed. The source is never written.
 */
export function cloneStates(task: TaskBuilder, backupConcurrency: number): Record<string, unknown> {
  const source = { 'tenantId.$': '$.sourceTenantId', 'backupId.$': '$.backupId' };
  const onFailure = (next: string) => [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: next }];
  const databaseStates = Object.fromEntries(
    CLONE_DATABASE_ORDER.map((step, i) => {
      const next = CLONE_DATABASE_ORDER[i + 1];
      return [`CloneDatabase${step}`, task(step, next ? `CloneDatabase${next}` : null)];
    }),
  );
  return {
    CloneBackupPlan: {
      ...task('PlanBackup', 'CloneBackupDatabases'),
      Parameters: source,
      ResultPath: '$.plan',
      Catch: onFailure('CloneBackupFailed'),
    },
    CloneBackupDatabases: {
      Type: 'Map',
      ItemsPath: '$.plan.databases',
      MaxConcurrency: backupConcurrency,
      ItemSelector: { ...source, 'databaseId.$': '$$.Map.Item.Value.databaseId' },
      ItemProcessor: {
        StartAt: 'CloneBackupDatabase',
        States: { CloneBackupDatabase: { ...task('BackupDatabase', null), ResultPath: '$.summary' } },
      },
      ResultPath: null,
      Catch: onFailure('CloneBackupFailed'),
      Next: 'CloneBackupFinish',
    },
    CloneBackupFinish: {
      ...task('FinishBackup', 'PlanClone'),
      Parameters: { ...source, 'plan.$': '$.plan' },
      ResultPath: '$.backup',
      Catch: onFailure('CloneBackupFailed'),
    },
    CloneBackupFailed: {
      ...task('FailBackup', 'CompensateClone'),
      Parameters: { ...source, 'error.$': '$.error' },
      ResultPath: '$.backupCleanup',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.backupCleanupError', Next: 'CompensateClone' }],
    },
    PlanClone: { ...task('PlanClone', 'CloneDatabases', 'CompensateClone'), ResultPath: '$.clone' },
    CloneDatabases: {
      Type: 'Map',
      Comment: "Each of the clone's databases: provisioned, restored from the backup, activated",
      ItemsPath: '$.clone.databases',
      MaxConcurrency: CLONE_CONCURRENCY,
      ItemSelector: {
        'tenantId.$': '$.tenantId',
        'databaseId.$': '$$.Map.Item.Value.databaseId',
        'restore.$': '$$.Map.Item.Value.restore',
        activateTenant: false,
      },
      ItemProcessor: { StartAt: `CloneDatabase${CLONE_DATABASE_ORDER[0]}`, States: databaseStates },
      ResultPath: null,
      Catch: onFailure('CompensateClone'),
      Next: 'FinishClone',
    },
    FinishClone: { ...task('FinishClone', null, 'CompensateClone'), ResultPath: '$.summary' },
    CompensateClone: {
      ...task('CompensateClone', 'CloneFailed'),
      ResultPath: '$.compensation',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.compensationError', Next: 'CloneFailed' }],
    },
    CloneFailed: {
      Type: 'Fail',
      Error: 'CloneFailed',
      Cause: 'The clone failed; what was made for it was removed',
    },
  };
}
