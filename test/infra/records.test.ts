import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { subscriptions } from '#shared/events/subscriptions';
import { routeList } from '#shared/routes/table';

interface Resource {
  Properties: Record<string, unknown>;
}
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const statementsOf = (template: Template, roleLogicalIdPrefix: string): Statement[] =>
  (Object.entries(template.findResources('AWS::IAM::Policy')) as [string, Resource][])
    .filter(([id]) => id.startsWith(roleLogicalIdPrefix))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());

describe('records infrastructure (audit, usage, metrics, finance exports)', () => {
  let events: Template;
  /** The API functions stacks' templates. */
  let routeFunctions: Template[];
  let stateful: Template;

  beforeAll(() => {
    const built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    events = Template.fromStack(built.events);
    routeFunctions = built.apiFunctions.map((stack) => Template.fromStack(stack));
    stateful = Template.fromStack(built.stateful);
  });

  it('schedules the storage snapshot daily and the month close on the 1st (UTC), with retries and a dead-letter queue', () => {
    const schedules = Object.values(events.findResources('AWS::Scheduler::Schedule')) as Resource[];
    expect(schedules.map((s) => s.Properties.ScheduleExpression).sort()).toEqual([
      'cron(15 2 * * ? *)',
      'cron(30 0 1 * ? *)',
      'cron(30 23 * * ? *)',
    ]);
    for (const schedule of schedules) {
      expect(schedule.Properties.ScheduleExpressionTimezone).toBe('Etc/UTC');
      expect(schedule.Properties.Target).toMatchObject({
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [expect.stringContaining('RecordJobsDeadLetterQueue'), 'Arn'] },
        },
      });
    }
    events.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('RecordJobsDeadLetterQueue'), 'QueueName'] },
        },
      ],
      Threshold: 0,
    });
  });

  it('lets the month close write exports but never delete them, and the snapshot publish usage', () => {
    events.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          EXPORTS_BUCKET_NAME: Match.anyValue(),
          USAGE_TABLE_NAME: Match.anyValue(),
        }),
      },
      Timeout: 900,
    });
    const close = actionsOf(statementsOf(events, 'RecordJobsMonthCloseRole'));
    expect(close).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 's3:ListBucket']));
    expect(close.filter((action) => action.startsWith('s3:Delete') || action === 's3:*')).toEqual([]);
    expect(actionsOf(statementsOf(events, 'RecordJobsStorageSnapshotRole'))).toEqual(
      expect.arrayContaining(['events:PutEvents', 'rds-data:ExecuteStatement']),
    );
  });

  it('passes the audit retention to the consumers, one per subscription (one consumer for every record)', () => {
    const consumers = (Object.values(events.findResources('AWS::Lambda::Function')) as Resource[]).filter(
      (fn) => JSON.stringify(fn.Properties.Environment).includes('tenantry-events'),
    );
    expect(consumers).toHaveLength(subscriptions.length);
    expect(subscriptions.map((subscription) => subscription.handler)).toEqual(['events/record-telemetry']);
    for (const fn of consumers) {
      expect(
        (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.AUDIT_RETENTION_DAYS,
      ).toBe('400');
    }
  });

  it('gives every authenticated route function the telemetry dead-letter queue, and export routes read-only exports', () => {
    events.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    const functions = routeFunctions.flatMap(
      (template) => Object.values(template.findResources('AWS::Lambda::Function')) as Resource[],
    );
    const handlers = new Set(
      routeList.filter((route) => route.access.kind !== 'public').map((route) => route.handler),
    );
    const withDlq = functions.filter((fn) =>
      JSON.stringify(fn.Properties.Environment).includes('TELEMETRY_DLQ_URL'),
    );
    expect(withDlq).toHaveLength(handlers.size);
    for (const role of ['ExportsGetExportRole', 'ExportsListArchiveRole', 'ExportsGetArchivedExportRole']) {
      const actions = actionsOf(routeFunctions.flatMap((template) => statementsOf(template, role)));
      expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:ListBucket', 'sqs:SendMessage']));
      expect(
        actions.filter((action) => action.startsWith('s3:Put') || action.startsWith('s3:Delete')),
      ).toEqual([]);
    }
  });

  it('expires metric ledger entries in the usage table (TTL on expiresAt)', () => {
    const tables = Object.values(stateful.findResources('AWS::DynamoDB::Table')) as Resource[];
    expect(
      tables.every(
        (table) =>
          (table.Properties.TimeToLiveSpecification as { AttributeName: string })?.AttributeName ===
          'expiresAt',
      ),
    ).toBe(true);
  });
});
