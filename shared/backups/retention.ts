import { backupPrefix, manifestKey } from '#shared/backups/manifest';
import { BackupRepository } from '#shared/control/backup-repository';
import { mapBounded } from '#shared/core/bounded-concurrency';
import { logger } from '#shared/core/logger';
import type { Limits } from '#shared/domain/plans';
import { Conflict } from '#shared/errors';
import type { BackupStore } from '#shared/ports/backup-store';
import { type BackupDeps, startBackup } from '#shared/tenancy/backups';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * When a completed backup expires: its completion plus the tenant's `backupRetentionDays` (plan
 * and overrides, shared/domain/plans.ts). Fixed when the backup completes: a later plan change
 * neither shortens nor lengthens the backups already kept, so what a tenant was shown holds.
 */
export function backupExpiry(
  limits: Pick<Limits, 'backupRetentionDays'>,
  completedAt: Date | string,
): string {
  const completed = typeof completedAt === 'string' ? new Date(completedAt) : completedAt;
  if (Number.isNaN(completed.getTime())) throw new Error('backup expiry: not a completion time');
  return new Date(completed.getTime() + limits.backupRetentionDays * DAY_MS).toISOString();
}

/**
 * A tenant is due when its latest running or completed scheduled backup started more than this
 * long ago. Less than a day, so a daily run that starts a little earlier than yesterday's (the
 * scheduler's jitter, a retry yesterday) still backs each tenant up once a day, not every other day.
 */
export const SCHEDULE_GAP_HOURS = 20;

/**
 * Tenants per page of the schedule and backups per page of retention: each statement's answer
 * stays far below the Data API's 1 MiB (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html):
 * a tenant id is 22 characters, a backup row with its manifest view a few KB.
 */
export const SCHEDULE_PAGE_SIZE = 200;
export const RETENTION_PAGE_SIZE = 100;
/** How many tenants are started, or backups deleted, at once. */
export const SCHEDULE_CONCURRENCY = 8;

export interface RetentionDeps extends BackupDeps {
  readonly backupStore: BackupStore;
}

export interface ScheduleOptions {
  readonly now?: Date;
  readonly pageSize?: number;
  readonly concurrency?: number;
}

export interface ScheduleResult {
  readonly started: number;
  /** Tenants not backed up this run for a reason that is no fault: a running backup, no active database. */
  readonly skipped: number;
  readonly failed: number;
}

/**
 * Starts a `schedule` backup of every active tenant that is due (SCHEDULE_GAP_HOURS), in keyset
 * pages of tenants, a few at a time. A tenant whose backup cannot start for a reason of its own
 * (409: a backup is running, the tenant or a database is not active, no database) is skipped, and
 * due again next run; any other failure is counted and the others go on.
 */
export async function startScheduledBackups(
  deps: BackupDeps,
  options: ScheduleOptions = {},
): Promise<ScheduleResult> {
  const backups = new BackupRepository(deps.control);
  const now = options.now ?? new Date();
  const since = new Date(now.getTime() - SCHEDULE_GAP_HOURS * 60 * 60 * 1000);
  const limit = options.pageSize ?? SCHEDULE_PAGE_SIZE;
  let after: string | null = null;
  let started = 0;
  let skipped = 0;
  let failed = 0;
  for (;;) {
    const due = await backups.tenantsDue({ since, afterTenantId: after, limit });
    const outcomes = await mapBounded(due, options.concurrency ?? SCHEDULE_CONCURRENCY, async (tenantId) => {
      try {
        await startBackup(deps, tenantId, { databaseIds: null, trigger: 'schedule', requestedBy: null });
        return 'started' as const;
      } catch (error) {
        if (error instanceof Conflict) {
          logger.info('scheduled backup skipped', { tenantId, reason: error.message, ...error.details });
          return 'skipped' as const;
        }
        logger.error('scheduled backup not started', { tenantId, error });
        return 'failed' as const;
      }
    });
    for (const outcome of outcomes) {
      if (outcome === 'started') started++;
      else if (outcome === 'skipped') skipped++;
      else failed++;
    }
    const last = due[due.length - 1];
    if (due.length < limit || !last) return { started, skipped, failed };
    after = last;
  }
}

/**
 * Deletes the objects of one backup. The manifest goes first: it is written last, so "a manifest
 * means every part is there" holds while the parts go too; then every object under the backup's
 * prefix (the store deletes in batches, 1 000 keys per S3 DeleteObjects). What a failed backup
 * left, if anything, goes the same way. Then the prefix is listed again: an object still there
 * (written meanwhile, or a delete the store did not report) fails the deletion, to be retried.
 * In the versioned exports bucket a delete adds a delete marker: the object is gone for every
 * reader and lister at once (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeleteMarker.html),
 * its noncurrent version removed a day later by the bucket's lifecycle rule.
 */
export async function deleteBackupObjects(store: BackupStore, tenantId: string, backupId: string) {
  const prefix = backupPrefix(backupId);
  const objects = await store.list(tenantId, prefix);
  const manifest = manifestKey(backupId);
  if (objects.some((object) => object.key === manifest)) await store.delete(tenantId, [manifest]);
  await store.delete(
    tenantId,
    objects.map((object) => object.key).filter((key) => key !== manifest),
  );
  const left = await store.list(tenantId, prefix);
  if (left.length > 0) throw new Error(`${left.length} objects of backup ${backupId} are still in the store`);
  return { objects: objects.length, bytes: objects.reduce((sum, object) => sum + object.bytes, 0) };
}

export interface RetentionResult {
  readonly deleted: number;
  readonly objects: number;
  readonly failed: number;
}

/**
 * Deletes every expired backup (and every backup of an offboarded tenant): its objects, then the
 * mark. Only once the objects are gone is it marked deleted (it leaves `GET …/backups`), so a
 * failure leaves the backup listed, with its manifest or without (a manifest-less backup is
 * restored by nobody), and the next run deletes it again; never a listed backup whose objects
 * were all deleted without it knowing, nor an unlisted one whose objects remain.
 */
export async function deleteExpiredBackups(
  deps: Pick<RetentionDeps, 'control' | 'backupStore'>,
  options: ScheduleOptions = {},
): Promise<RetentionResult> {
  const backups = new BackupRepository(deps.control);
  const now = options.now ?? new Date();
  const limit = options.pageSize ?? RETENTION_PAGE_SIZE;
  let after: string | null = null;
  let deleted = 0;
  let objects = 0;
  let failed = 0;
  for (;;) {
    const page = await backups.expired({ now, afterBackupId: after, limit });
    const outcomes = await mapBounded(page, options.concurrency ?? SCHEDULE_CONCURRENCY, async (backup) => {
      try {
        const removed = await deleteBackupObjects(deps.backupStore, backup.tenantId, backup.id);
        await backups.markDeleted(backup.id);
        logger.info('expired backup deleted', { tenantId: backup.tenantId, backupId: backup.id, ...removed });
        return removed.objects;
      } catch (error) {
        logger.error('expired backup not deleted', { tenantId: backup.tenantId, backupId: backup.id, error });
        return null;
      }
    });
    for (const outcome of outcomes) {
      if (outcome === null) failed++;
      else {
        deleted++;
        objects += outcome;
      }
    }
    const last = page[page.length - 1];
    // The keyset moves past failed ones too: each is tried once per run, and again next run.
    if (page.length < limit || !last) return { deleted, objects, failed };
    after = last.id;
  }
}

/**
 * The daily run: the schedule's backups (unless the deployment turned them off), then retention.
 * It fails when anything failed, after doing all else, so that Lambda retries it and, after
 * that, its failure lands in the job's queue with an alarm; a retry is safe: tenants started
 * are no longer due, deleted backups are no longer expired.
 */
export async function runBackupSchedule(
  deps: RetentionDeps,
  settings: { readonly scheduledBackups: boolean },
  options: ScheduleOptions = {},
): Promise<{ schedule: ScheduleResult | null; retention: RetentionResult }> {
  const schedule = settings.scheduledBackups ? await startScheduledBackups(deps, options) : null;
  const retention = await deleteExpiredBackups(deps, options);
  const result = { schedule, retention };
  const failures = (schedule?.failed ?? 0) + retention.failed;
  if (failures > 0) {
    throw new BackupScheduleIncomplete(failures, result);
  }
  return result;
}

/** Some tenants' backups did not start, or some expired backups were not deleted: the run is retried. */
export class BackupScheduleIncomplete extends Error {
  constructor(
    readonly failures: number,
    readonly result: { schedule: ScheduleResult | null; retention: RetentionResult },
  ) {
    super(`The backup schedule ran with ${failures} failures: ${JSON.stringify(result)}`);
    this.name = 'BackupScheduleIncomplete';
  }
}
