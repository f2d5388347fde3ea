import { describe, expect, it } from 'vitest';
import { backupExpiry } from '#shared/backups/retention';
import {
  backupJobEventSchema,
  backupScheduleFromContext,
  DEFAULT_BACKUP_SCHEDULE,
  InvalidBackupScheduleError,
} from '#shared/backups/schedule-settings';

describe('the backup schedule of a deployment (CDK context backupSchedule)', () => {
  it('defaults to scheduled backups at 02:15 UTC', () => {
    expect(backupScheduleFromContext(undefined)).toEqual({ scheduledBackups: true, hourUtc: 2 });
    expect(DEFAULT_BACKUP_SCHEDULE).toEqual({ scheduledBackups: true, hourUtc: 2 });
  });

  it('takes JSON text from the command line or an object from cdk.json', () => {
    expect(backupScheduleFromContext('{"scheduledBackups":false}')).toEqual({
      scheduledBackups: false,
      hourUtc: 2,
    });
    expect(backupScheduleFromContext({ hourUtc: 23 })).toEqual({ scheduledBackups: true, hourUtc: 23 });
    expect(backupScheduleFromContext({ hourUtc: 0 }).hourUtc).toBe(0);
  });

  it.each([
    ['text that is not JSON', '{hour: 3', /not JSON/],
    ['an hour past 23', { hourUtc: 24 }, /hourUtc/],
    ['a negative hour', { hourUtc: -1 }, /hourUtc/],
    ['a fractional hour', { hourUtc: 2.5 }, /hourUtc/],
    ['a string for the switch', { scheduledBackups: 'no' }, /scheduledBackups/],
    ['an unknown key', { enabled: false }, /enabled|Unrecognized/],
    ['not an object', 3, /root/],
  ])('refuses %s, naming it', (_, value, message) => {
    expect(() => backupScheduleFromContext(value)).toThrow(InvalidBackupScheduleError);
    expect(() => backupScheduleFromContext(value)).toThrow(message);
  });
});

describe("the job's input", () => {
  it('is {} (scheduled backups) or turns them off; anything else is refused', () => {
    expect(backupJobEventSchema.parse({})).toEqual({ scheduledBackups: true });
    expect(backupJobEventSchema.parse({ scheduledBackups: false })).toEqual({ scheduledBackups: false });
    expect(backupJobEventSchema.safeParse({ scheduledBackups: 'false' }).success).toBe(false);
    expect(backupJobEventSchema.safeParse({ tenants: ['t_x'] }).success).toBe(false);
    expect(backupJobEventSchema.safeParse(null).success).toBe(false);
  });
});

describe('backupExpiry', () => {
  it('is the completion plus the retention in days, whatever the time of day', () => {
    expect(backupExpiry({ backupRetentionDays: 1 }, '2026-12-31T23:59:59.999Z')).toBe(
      '2027-01-01T23:59:59.999Z',
    );
    expect(backupExpiry({ backupRetentionDays: 3650 }, new Date('2026-01-01T00:00:00Z'))).toBe(
      '2035-12-30T00:00:00.000Z',
    );
  });

  it('refuses a completion time that is none', () => {
    expect(() => backupExpiry({ backupRetentionDays: 7 }, 'yesterday')).toThrow(/not a completion time/);
  });
});
