import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { RECORD_JOB_HANDLERS } from '#infra/constructs/record-jobs';
import { subscriptions } from '#shared/events/subscriptions';
import { firstMessageAlarm, tlsOnlyStatement } from '../support/queue-assertions.ts';

/*
 * EventBridge rules and EventBridge Scheduler invoke Lambda asynchronously: once Lambda has queued
 * the event, the rule's or schedule's dead-letter queue is out of the picture, and a function
 * error is retried by Lambda (twice by default) and then dropped, unless the function has an
 * on-failure destination or a dead-letter queue of its own.
 * - Rules: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html (the DLQ holds
 *   events that "couldn't successfully be delivered to a target")
 * - Scheduler: https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html
 *   ("EventBridge Scheduler invokes your Lambda function asynchronously")
 * - Lambda: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 *   (two more attempts by default) and
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 *   (destinations; an SQS destination needs sqs:SendMessage on the execution role)
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

describe('failed invocations of event consumers and scheduled jobs', () => {
  let template: Template;
  let resources: Record<string, Resource>;
  /** Logical id of each consumer and job function, by handler entry. */
  let functionIds: Map<string, string>;
  let alarmTopicId: string;

  const handlers = [
    ...subscriptions.map((subscription) => subscription.handler),
    ...Object.values(RECORD_JOB_HANDLERS),
  ];
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
    expect(handlers).toHaveLength(subscriptions.length + 2);
    for (const handler of handlers) expect(functionIds.get(handler), handler).toBeDefined();
  });

  it.each(handlers)(
    '%s: Lambda retries twice within 6 hours, then sends the record to a queue',
    (handler) => {
      const functionId = functionIds.get(handler) ?? '';
      const configs = invokeConfigOf(functionId);
      expect(configs).toHaveLength(1);
      expect(configs[0]?.[1].Properties).toMatchObject({
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 21_600,
      });
      expect(resources[failureQueueOf(functionId)]?.Type).toBe('AWS::SQS::Queue');
    },
  );

  it('gives each function its own failure queue, apart from the rule and schedule dead-letter queues', () => {
    const failureQueues = handlers.map((handler) => failureQueueOf(functionIds.get(handler) ?? ''));
    expect(new Set(failureQueues).size).toBe(handlers.length);
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
    expect(undeliverable).toHaveLength(subscriptions.length + 2);
    for (const queue of failureQueues) expect(undeliverable).not.toContain(queue);
  });

  it.each(handlers)(
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

  it.each(handlers)(
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
