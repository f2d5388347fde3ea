import { ACTIVE_DATABASE_TTL_MS } from '#shared/control/database-registry';
import type { TaskBuilder } from '#shared/workflows/clone-states';

/** How many databases of one move are copied (and brought level) at a time. */
export const MOVE_CONCURRENCY = 1;

/**
 * Between the switch and the sources' drop: twice as long as any process may serve a database's
 * record from its cache (ACTIVE_DATABASE_TTL_MS), so no request still reads a source when it goes.
 */
export const MOVE_SOURCE_GRACE_SECONDS = Math.ceil((2 * ACTIVE_DATABASE_TTL_MS) / 1000);

/**
 * The `move` operation (shared/provisioning/move-steps.ts; docs/isolation-modes.md, "Moves"):
 * plan; copy each database while the tenant writes; freeze row writes; bring each copy level and
 * verify it; switch every database at once; wait out the caches; drop the sources. Any failure
 * before the switch compensates: the copies go, the sources take writes again, the move `failed`.
 * A failure after the switch (dropping the sources) fails the execution with the move switched:
 * the tenant's data is in its copies, what was left is for an operator.
 */
export function moveStates(task: TaskBuilder): Record<string, unknown> {
  const move = { 'tenantId.$': '$.tenantId', 'moveId.$': '$.moveId' };
  const perDatabase = (name: string, step: 'CopyMoveDatabase' | 'SyncMoveDatabase', next: string) => ({
    Type: 'Map',
    ItemsPath: '$.plan.databases',
    MaxConcurrency: MOVE_CONCURRENCY,
    ItemSelector: { ...move, 'databaseId.$': '$$.Map.Item.Value.databaseId' },
    ItemProcessor: {
      StartAt: name,
      States: { [name]: { ...task(step, null), ResultPath: '$.summary' } },
    },
    // A few numbers per database (the step's summary), whatever its tables hold.
    ResultPath: `$.results.${step}`,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'CompensateMove' }],
    Next: next,
  });
  return {
    PlanMove: { ...task('PlanMove', 'MoveCopyDatabases', 'CompensateMove'), ResultPath: '$.plan' },
    MoveCopyDatabases: perDatabase('MoveCopyDatabase', 'CopyMoveDatabase', 'FreezeMoveWrites'),
    FreezeMoveWrites: task('FreezeMoveWrites', 'MoveSyncDatabases', 'CompensateMove'),
    MoveSyncDatabases: perDatabase('MoveSyncDatabase', 'SyncMoveDatabase', 'SwitchMove'),
    SwitchMove: task('SwitchMove', 'MoveSourceGrace', 'CompensateMove'),
    MoveSourceGrace: { Type: 'Wait', Seconds: MOVE_SOURCE_GRACE_SECONDS, Next: 'FinishMove' },
    FinishMove: {
      ...task('FinishMove', null),
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MoveCleanupFailed' }],
    },
    MoveCleanupFailed: {
      Type: 'Fail',
      Error: 'MoveCleanupFailed',
      Cause: 'The move switched to the copies; dropping a source failed, and it may remain',
    },
    CompensateMove: {
      ...task('CompensateMove', 'MoveFailed'),
      ResultPath: '$.compensation',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.compensationError', Next: 'MoveFailed' }],
    },
    MoveFailed: {
      Type: 'Fail',
      Error: 'MoveFailed',
      Cause: 'The move failed and was rolled back to the source',
    },
  };
}
