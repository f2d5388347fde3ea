import * as z from 'zod';

/**
 * How a deployment runs the daily backup job (docs/backups.md, "Schedule and retention"): whether
 * it starts scheduled backups, and at which hour (UTC). Retention runs in every case: backups a
 * tenant asked for expire too. CDK context `backupSchedule` (JSON), validated at synthesis.
 */
export const backupScheduleSchema = z.strictObject({
  /** False: the job only deletes expired backups; tenants back up on request. @default true */
  scheduledBackups: z.boolean().default(true),
  /**
   * The hour the job runs at, UTC (minute 15: clear of the storage snapshot at 23:30 and the
   * month close at 00:30). @default 2
   */
  hourUtc: z.number().int().min(0).max(23).default(2),
});
export type BackupSchedule = z.infer<typeof backupScheduleSchema>;

export const DEFAULT_BACKUP_SCHEDULE: BackupSchedule = backupScheduleSchema.parse({});

export class InvalidBackupScheduleError extends Error {
  constructor(reason: string) {
    super(`Invalid backup schedule (CDK context "backupSchedule"): ${reason}`);
    this.name = 'InvalidBackupScheduleError';
  }
}

/** The context value: JSON text on the command line (`-c backupSchedule='{…}'`), an object in cdk.json. */
export function backupScheduleFromContext(value: unknown): BackupSchedule {
  if (value === undefined) return DEFAULT_BACKUP_SCHEDULE;
  let json = value;
  if (typeof value === 'string') {
    try {
      json = JSON.parse(value);
    } catch {
      throw new InvalidBackupScheduleError('not JSON');
    }
  }
  const parsed = backupScheduleSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidBackupScheduleError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; '),
    );
  }
  return parsed.data;
}

/**
 * What the schedule sends the job (EventBridge Scheduler's target input; on the local platform,
 * the payload of an Invoke). `{}` is a run with scheduled backups; anything else is refused, so a
 * mistyped input fails the run rather than silently back every tenant up.
 */
export const backupJobEventSchema = z.strictObject({
  scheduledBackups: z.boolean().default(true),
});
