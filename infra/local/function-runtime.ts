/**
 * Which local function is running. In AWS every function is its own process with its own
 * configuration, credentials and warm caches; the local platform runs them all in one process
 * (and the event consumers in one worker thread), so each invocation runs inside its function's
 * context and the composition root answers that function's own set of services.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { recordTables } from '#shared/records/tables';

const running = new AsyncLocalStorage<string>();

/** Runs `work` as the function `entry` (its `functions/` path, e.g. `me/get-me`). */
export function runAsFunction<T>(entry: string, work: () => T): T {
  return running.run(entry, work);
}

/** The function now running; undefined outside any (boot code, a test's own calls). */
export function currentFunction(): string | undefined {
  return running.getStore();
}

/**
 * One value per function, made on its first use inside that function, as a Lambda function's
 * module-level state is its own. Outside any function, the value for `undefined`.
 */
export function perFunction<T>(make: (entry: string | undefined) => T): () => T {
  const made = new Map<string | undefined, T>();
  return () => {
    const entry = currentFunction();
    let value = made.get(entry);
    if (value === undefined) {
      value = make(entry);
      made.set(entry, value);
    }
    return value;
  };
}

/**
 * Variables the CDK app sets per function, and the local variables that stand in for one of them
 * (the archive folder for the bucket, the dead-letter file for the queue). The platform sets them
 * all in its one process; a function sees only those its template gives it, as in Lambda, so a
 * function without `EVENT_BUS_NAME` publishes no telemetry here either.
 */
const PER_FUNCTION_VARIABLES: Readonly<Record<string, string>> = {
  CLUSTER_ARN: 'CLUSTER_ARN',
  CLUSTER_SECRET_ARN: 'CLUSTER_SECRET_ARN',
  CONTROL_SECRET_ARN: 'CONTROL_SECRET_ARN',
  TENANT_ACCESS_ROLE_ARN: 'TENANT_ACCESS_ROLE_ARN',
  USER_POOL_ID: 'USER_POOL_ID',
  USER_POOL_CLIENT_ID: 'USER_POOL_CLIENT_ID',
  EVENT_BUS_NAME: 'EVENT_BUS_NAME',
  [recordTables.audit.envVar]: recordTables.audit.envVar,
  [recordTables.usage.envVar]: recordTables.usage.envVar,
  EXPORTS_DIR: 'EXPORTS_BUCKET_NAME',
  TELEMETRY_DEAD_LETTER_FILE: 'TELEMETRY_DLQ_URL',
};

/** The platform's environment as one function sees it; all of it for code that is no function. */
export function functionEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  templateKeys: readonly string[] | undefined,
): Record<string, string | undefined> {
  if (templateKeys === undefined) return { ...env };
  const given = new Set(templateKeys);
  return Object.fromEntries(
    Object.entries(env).filter(([key]) => {
      const setBy = PER_FUNCTION_VARIABLES[key];
      return setBy === undefined || given.has(setBy);
    }),
  );
}
