/**
 * The scheduled jobs of the records, by entry under `functions/`. CDK gives each an EventBridge
 * Scheduler schedule (infra/constructs/record-jobs.ts); the local platform serves them on its
 * Lambda Invoke endpoint, asynchronous invocations included.
 */
export const RECORD_JOB_HANDLERS = {
  storageSnapshot: 'usage/snapshot-storage',
  monthClose: 'exports/close-month',
} as const;
