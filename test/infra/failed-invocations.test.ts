import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { RECORD_JOB_HANDLERS } from '#infra/constructs/record-jobs';
import { subscriptions } from '#shared/events/subscriptions';
import { archiveRules } from '#shared/records/audit-archive';
import { firstMessageAlarm, tlsOnlyStatement } from '../support/queue-assertions.ts';

/*
 * EventBridge Scheduler invokes the scheduled jobs asynchronously: once Lambda has queued the
 * event, the schedule's dead-letter queue is out of the picture, and a function error is retried
 * by Lambda (twice by default) and then dropped, unless the function has an on-failure destination.
 * - Scheduler: https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html
 *   ("EventBridge Scheduler invokes your Lambda function asynchronously")
 * - Lambda: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 *   (two more attempts by default) and
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 *   (destinations; an SQS destination needs sqs:SendMessage on the execution role)
 * The event consumers are not invoked asynchronously any more: their rules target SQS queues, read
 * through event source mappings (synchronous invocations), so Lambda's asynchronous retries and
 * destinations do not apply to them; what a consumer fails on ends in its queue's dead-letter
 * queue (test/infra/events.test.ts), and its role may only consume its own queue
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
 */

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}
type GetAtt = { 'Fn::GetAtt': [string, string] };
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

describe('failed invocations of the scheduled jobs, and none configured for the event consumers', () => {
  let template: Template;
  let resources: Record<string, Resource>;
  /** Logical id of each consumer and job function, by handler entry. */
  let functionIds: Map<string, string>;
  let alarmTopicId: string;

  const consumers = subscriptions.map((subscription) => subscription.handler);
  const jobs = Object.values(RECORD_JOB_HANDLERS);
  const handlers = [...consumers, ...jobs];
  const ofType = (type: string) =>
    Object.entries(resources).filter(([, resource]) => resource.Type === type) as [string, Resource][];
  const invokeConfigOf = (functionId: string) =>
    ofType('AWS::Lambda::EventInvokeConfig').filter(
      ([, config]) => (config.Properties.FunctionName as { Ref?: string }).Ref === functionId,
    );
  const failureQueueOf = (functionId: string): string => {
    const [entry] = invokeConfigOf(functionId);
    const destination = (
      entry?.[1].Properties.DestinationConfig as { OnFailure?: { Destination?: GetAtt } } | undefined
    )?.OnFailure?.Destination;
    expect(destination?.['Fn::GetAtt'][1], functionId).toBe('Arn');
    return destination?.['Fn::GetAtt'][0] ?? '';
  };
  /** The statements of the policies attached to the function's role. */
  const roleStatementsOf = (functionId: string): Statement[] => {
    const role = (resources[functionId]?.Properties.Role as GetAtt | undefined)?.['Fn::GetAtt'][0];
    expect(role, functionId).toBeDefined();
    return ofType('AWS::IAM::Policy')
      .filter(([, policy]) => (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
      .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  };

  beforeAll(() => {
    const built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    template = Template.fromStack(built.events);
    resources = template.toJSON().Resources as Record<string, Resource>;
    functionIds = new Map(
      ofType('AWS::Lambda::Function').map(([id, fn]) => [
        String(fn.Properties.Description).replace(/^Tenantry /, ''),
        id,
      ]),
    );
    const [topic] = ofType('AWS::SNS::Topic');
    alarmTopicId = topic?.[0] ?? '';
  });

  it('finds every consumer and job function (a guard against checking nothing)', () => {
    expect(handlers).toHaveLength(subscriptions.length + jobs.length);
    for (const handler of handlers) expect(functionIds.get(handler), handler).toBeDefined();
  });

  it.each(consumers)(
    '%s: has no asynchronous invoke config (no retries or destination of its own), and its queue redrives to a dead-letter queue',
    (handler) => {
      const functionId = functionIds.get(handler) ?? '';
      expect(invokeConfigOf(functionId)).toEqual([]);
      const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
        ([, mapping]) => (mapping.Properties.FunctionName as { Ref?: string }).Ref === functionId,
      );
      expect(mappings).toHaveLength(1);
      const source = mappings[0]?.[1].Properties.EventSourceArn as GetAtt | undefined;
      const queueId = source?.['Fn::GetAtt'][0] ?? '';
      const redrive = resources[queueId]?.Properties.RedrivePolicy as
        | { deadLetterTargetArn: GetAtt }
        | undefined;
      expect(resources[redrive?.deadLetterTargetArn['Fn::GetAtt'][0] ?? '']?.Type).toBe('AWS::SQS::Queue');
    },
  );

  it.each(consumers)(
    '%s: the role may consume its own queue (what the event source mapping calls), and send to no queue',
    (handler) => {
      const functionId = functionIds.get(handler) ?? '';
      const [mapping] = ofType('AWS::Lambda::EventSourceMapping').filter(
        ([, candidate]) => (candidate.Properties.FunctionName as { Ref?: string }).Ref === functionId,
      );
      const queueArn = mapping?.[1].Properties.EventSourceArn;
      const sqsStatements = roleStatementsOf(functionId).filter((statement) =>
        [statement.Action].flat().some((action) => action.startsWith('sqs:')),
      );
      expect(sqsStatements).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Action: [
            'sqs:ReceiveMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:GetQueueUrl',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
          ],
          Resource: queueArn,
        }),
      ]);
    },
  );

  it.each(jobs)('%s: Lambda retries twice within 6 hours, then sends the record to a queue', (handler) => {
    const functionId = functionIds.get(handler) ?? '';
    const configs = invokeConfigOf(functionId);
    expect(configs).toHaveLength(1);
    expect(configs[0]?.[1].Properties).toMatchObject({
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21_600,
    });
    expect(resources[failureQueueOf(functionId)]?.Type).toBe('AWS::SQS::Queue');
  });

  it("gives each job its own failure queue, apart from the rules', the schedules' and the consumer queues' dead-letter queues", () => {
    const failureQueues = jobs.map((handler) => failureQueueOf(functionIds.get(handler) ?? ''));
    expect(new Set(failureQueues).size).toBe(jobs.length);
    // The dead-letter queues of the rules and schedules stay, for events that were never delivered.
    const undeliverable = [
      ...ofType('AWS::Events::Rule').flatMap(([, rule]) =>
        (rule.Properties.Targets as { DeadLetterConfig: { Arn: GetAtt } }[]).map(
          (target) => target.DeadLetterConfig.Arn['Fn::GetAtt'][0],
        ),
      ),
      ...ofType('AWS::Scheduler::Schedule').map(
        ([, schedule]) =>
          (schedule.Properties.Target as { DeadLetterConfig: { Arn: GetAtt } }).DeadLetterConfig.Arn[
            'Fn::GetAtt'
          ][0],
      ),
    ];
    // The audit archive's rules share one dead-letter queue.
    expect(undeliverable).toHaveLength(subscriptions.length + jobs.length + archiveRules.length);
    const redriven = ofType('AWS::SQS::Queue').flatMap(([, queue]) => {
      const redrive = queue.Properties.RedrivePolicy as { deadLetterTargetArn: GetAtt } | undefined;
      return redrive ? [redrive.deadLetterTargetArn['Fn::GetAtt'][0]] : [];
    });
    expect(redriven).toHaveLength(subscriptions.length);
    for (const queue of failureQueues) {
      expect(undeliverable).not.toContain(queue);
      expect(redriven).not.toContain(queue);
    }
  });

  it.each(jobs)(
    '%s: the failure queue is encrypted, TLS-only, kept 14 days and alarms the operators',
    (handler) => {
      const queueId = failureQueueOf(functionIds.get(handler) ?? '');
      expect(resources[queueId]?.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1_209_600,
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: { Statement: [tlsOnlyStatement(queueId)] },
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', firstMessageAlarm(queueId, alarmTopicId));
    },
  );

  it.each(jobs)(
    '%s: the role may send to its own failure queue, and nothing more on any queue',
    (handler) => {
      const functionId = functionIds.get(handler) ?? '';
      const queueArn = { 'Fn::GetAtt': [failureQueueOf(functionId), 'Arn'] };
      const sqsStatements = roleStatementsOf(functionId).filter((statement) =>
        [statement.Action].flat().some((action) => action.startsWith('sqs:')),
      );
      expect(sqsStatements).toEqual([
        expect.objectContaining({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn }),
      ]);
    },
  );
});
