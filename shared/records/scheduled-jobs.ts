import type { Need } from '#shared/domain/needs';

/**
 * The scheduled jobs of the records, by entry under `functions/`. CDK gives each an EventBridge
 * Scheduler schedule (infra/constructs/record-jobs.ts); the local platform serves them on its
 * Lambda Invoke endpoint, asynchronous invocations included.
 */
export const RECORD_JOB_HANDLERS = {
  storageSnapshot: 'usage/snapshot-storage',
  monthClose: 'exports/close-month',
  backupSchedule: 'backups/run-backup-schedule',
} as const;

/**
 * What each job reaches (shared/routes/needs.ts). The storage snapshot measures every tenant
 * database from the control database and publishes usage events; the monthly close reconciles the
 * month's usage and archives its export, naming tenants from the control database.
 */
export const RECORD_JOB_NEEDS = {
  // Each database is measured as its own tenant (a tenant-access session), never as the master.
  // Its thresholds read each tenant's plan against the catalogue (`plans`).
  storageSnapshot: ['controlDb', 'tenantData', 'events', 'plans'],
  monthClose: ['controlDb', 'usageRecordsWrite', 'exportArchiveWrite'],
  // Starts each due tenant's backup workflow and deletes expired backups' objects
  // (docs/backups.md, "Schedule and retention"). No `plans`: an expiry is fixed at completion.
  backupSchedule: ['controlDb', 'workflows', 'backupStore'],
} as const satisfies Record<keyof typeof RECORD_JOB_HANDLERS, readonly Need[]>;
