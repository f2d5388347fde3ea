import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { InvalidBackupScheduleError } from '#shared/backups/schedule-settings';

interface Resource {
  Properties: Record<string, unknown>;
}
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const backupSchedules = (template: Template) =>
  (Object.entries(template.findResources('AWS::Scheduler::Schedule')) as [string, Resource][])
    .filter(([id]) => id.includes('BackupScheduleSchedule'))
    .map(([, schedule]) => schedule.Properties);
const actionsOf = (template: Template, prefix: string) =>
  (Object.entries(template.findResources('AWS::IAM::Policy')) as [string, Resource][])
    .filter(([id]) => id.startsWith(prefix))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .flatMap((statement) => [statement.Action].flat());

describe('the daily backup job (schedule and retention)', () => {
  let events: Template;

  beforeAll(() => {
    events = Template.fromStack(
      buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false }).events,
    );
  });

  it('runs at 02:15 UTC by default, with scheduled backups, retried and dead-lettered like the records jobs', () => {
    const [schedule, ...others] = backupSchedules(events);
    expect(others).toEqual([]);
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(15 2 * * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: {
        Input: JSON.stringify({ scheduledBackups: true }),
        RetryPolicy: { MaximumRetryAttempts: 3 },
      },
    });
  });

  it('starts the backup workflow, reads the control database and deletes backup objects, nothing of the tenants', () => {
    const actions = actionsOf(events, 'RecordJobsBackupScheduleRole');
    expect(actions).toEqual(
      expect.arrayContaining([
        'states:StartExecution',
        'rds-data:ExecuteStatement',
        's3:DeleteObject',
        's3:ListBucket',
      ]),
    );
    // No tenant's secret, no tenant session: it never opens a tenant database.
    expect(actions).not.toContain('secretsmanager:CreateSecret');
    expect(actions).not.toContain('secretsmanager:DeleteSecret');
    expect(actions).not.toContain('sts:AssumeRole');
  });

  it('takes the hour and the switch from the backupSchedule context', () => {
    const template = Template.fromStack(
      buildApp({
        stage: 'dev',
        bundle: false,
        cloudFormationValidation: false,
        backupSchedule: '{"scheduledBackups":false,"hourUtc":5}',
      }).events,
    );
    expect(backupSchedules(template)).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'cron(15 5 * * ? *)',
        Target: expect.objectContaining({ Input: JSON.stringify({ scheduledBackups: false }) }),
      }),
    ]);
  });

  it.each([[{ hourUtc: 24 }], ['{"scheduled":false}'], ['{']])(
    'fails the synthesis on a bad backupSchedule %j',
    (value) => {
      expect(() =>
        buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false, backupSchedule: value }),
      ).toThrow(InvalidBackupScheduleError);
    },
  );
});
