/**
 * Each local function's configuration. In AWS every function is its own process with its own
 * environment; the local platform runs them all in one process, so each function is given the
 * part of the platform's configuration its template sets, as an object (wiring.ts).
 */
import { recordTables } from '#shared/records/tables';

/**
 * Variables the CDK app sets per function, and the local variables that stand in for one of them
 * (the archive folder for the bucket, the dead-letter file for the queue). The platform knows them
 * all; a function sees only those its template gives it, as in Lambda, so a
 * function without `EVENT_BUS_NAME` publishes no telemetry here either.
 */
const PER_FUNCTION_VARIABLES: Readonly<Record<string, string>> = {
  CLUSTER_ARN: 'CLUSTER_ARN',
  CLUSTER_SECRET_ARN: 'CLUSTER_SECRET_ARN',
  CLUSTERS: 'CLUSTERS',
  CLUSTER_SECRET_ARNS: 'CLUSTER_SECRET_ARNS',
  CONTROL_SECRET_ARN: 'CONTROL_SECRET_ARN',
  TENANT_ACCESS_ROLE_ARN: 'TENANT_ACCESS_ROLE_ARN',
  USER_POOL_ID: 'USER_POOL_ID',
  USER_POOL_CLIENT_ID: 'USER_POOL_CLIENT_ID',
  EVENT_BUS_NAME: 'EVENT_BUS_NAME',
  TENANT_PLANS: 'TENANT_PLANS',
  [recordTables.audit.envVar]: recordTables.audit.envVar,
  [recordTables.usage.envVar]: recordTables.usage.envVar,
  [recordTables.limits.envVar]: recordTables.limits.envVar,
  EXPORTS_DIR: 'EXPORTS_BUCKET_NAME',
  // The backups folder stands in for the exports bucket's backups/ (the backupStore need).
  BACKUPS_DIR: 'BACKUPS_BUCKET_NAME',
  BACKUPS_KEY_ARN: 'BACKUPS_KEY_ARN',
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
