import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { EventConsumers } from '#infra/constructs/event-consumers';
import { stagePolicy } from '#infra/stage-policy';
import { RECORDS_QUEUE_DELIVERY, VISIBILITY_TIMEOUT_FACTOR } from '#shared/events/delivery-policy';
import { catalog } from '#shared/events/events';
import { type EventSubscription, subscriptions } from '#shared/events/subscriptions';
import { RECORD_JOB_HANDLERS } from '#shared/records/scheduled-jobs';
import { firstMessageAlarm, tlsOnlyStatement } from '../support/queue-assertions.ts';

interface Resource {
  Properties: Record<string, unknown>;
}

describe('EventsStack', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(
      buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false }).events,
    );
  });

  it('has one rule per subscription, on the stage bus, matching source and detail-type from the catalog', () => {
    // The audit archive's rules (test/infra/audit-archive.test.ts) target its stream, not a consumer.
    const rules = (Object.values(template.findResources('AWS::Events::Rule')) as Resource[]).filter(
      (rule) => !String(rule.Properties.Description).startsWith('Audit archive:'),
    );
    expect(rules).toHaveLength(subscriptions.length);
    for (const subscription of subscriptions) {
      const expectedSources = [...new Set(subscription.detailTypes.map((type) => catalog.get(type).source))];
      const rule = rules.find(
        (candidate) =>
          JSON.stringify(
            (candidate.Properties.EventPattern as { 'detail-type': string[] })['detail-type'],
          ) === JSON.stringify(subscription.detailTypes),
      );
      expect(rule, subscription.name).toBeDefined();
      expect(rule?.Properties.EventPattern).toEqual({
        source: expectedSources,
        'detail-type': [...subscription.detailTypes],
      });
      expect(JSON.stringify(rule?.Properties.EventBusName)).toContain('EventBus');
    }
  });

  const bySubscription = subscriptions.map((subscription) => [subscription.name, subscription] as const);
  /** The logical id a `{ 'Fn::GetAtt': [id, attribute] }` or `{ Ref: id }` names. */
  const idOf = (value: unknown): string =>
    (value as { Ref?: string }).Ref ?? (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const resourcesOf = (type: string) => Object.entries(template.findResources(type)) as [string, Resource][];
  /** Each subscription's rule, its one target, the target queue, and the consumer reading it. */
  const wiringOf = (subscription: EventSubscription) => {
    const [ruleId, rule] =
      resourcesOf('AWS::Events::Rule').find(
        ([, candidate]) =>
          candidate.Properties.Description === `${subscription.name}: ${subscription.detailTypes.join(', ')}`,
      ) ?? [];
    expect(rule, subscription.name).toBeDefined();
    const targets = (rule?.Properties.Targets ?? []) as Record<string, unknown>[];
    expect(targets, subscription.name).toHaveLength(1);
    const target = targets[0] ?? {};
    const queueId = idOf(target.Arn);
    const mappings = resourcesOf('AWS::Lambda::EventSourceMapping').filter(
      ([, mapping]) => idOf(mapping.Properties.EventSourceArn) === queueId,
    );
    expect(mappings, subscription.name).toHaveLength(1);
    const mapping = mappings[0]?.[1];
    const functionId = idOf(mapping?.Properties.FunctionName);
    const fn = template.toJSON().Resources[functionId] as Resource & { Type: string };
    return {
      ruleId: ruleId ?? '',
      target,
      queueId,
      queue: template.toJSON().Resources[queueId] as Resource & { Type: string },
      mapping,
      functionId,
      fn,
    };
  };

  it.each(bySubscription)(
    '%s: the rule targets its own encrypted, TLS-only queue, which only the rule may send to',
    (_name, subscription) => {
      const { ruleId, queueId, queue, target } = wiringOf(subscription);
      expect(queue.Type).toBe('AWS::SQS::Queue');
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: [
            tlsOnlyStatement(queueId),
            {
              Effect: 'Allow',
              Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
              Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
            },
          ],
        },
      });
      // No input transformer: the message body is the event itself, what the consumer parses.
      expect(target.InputTransformer).toBeUndefined();
      expect(target.Input).toBeUndefined();
    },
  );

  it.each(bySubscription)(
    '%s: the rule target has a retry policy and a dead-letter queue apart from its queue',
    (_name, subscription) => {
      const { queueId, target } = wiringOf(subscription);
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 });
      const deadLetterId = idOf(
        (target.DeadLetterConfig as { Arn: unknown } | undefined)?.Arn ?? { Ref: '' },
      );
      expect(template.toJSON().Resources[deadLetterId]?.Type).toBe('AWS::SQS::Queue');
      expect(deadLetterId).not.toBe(queueId);
    },
  );

  it.each(bySubscription)(
    "%s: the queue's visibility is 6 × the consumer's timeout, redrive to the failed-messages queue after maxReceiveCount",
    (_name, subscription) => {
      const { queue, fn, target } = wiringOf(subscription);
      expect(fn.Type).toBe('AWS::Lambda::Function');
      expect(fn.Properties.Description).toBe(`Tenantry ${subscription.handler}`);
      const timeout = Number(fn.Properties.Timeout);
      expect(timeout).toBeGreaterThan(0);
      expect(queue.Properties.VisibilityTimeout).toBe(VISIBILITY_TIMEOUT_FACTOR * timeout);
      expect(VISIBILITY_TIMEOUT_FACTOR).toBe(6);
      const redrive = queue.Properties.RedrivePolicy as {
        deadLetterTargetArn: unknown;
        maxReceiveCount: number;
      };
      expect(redrive.maxReceiveCount).toBe(subscription.delivery.maxReceiveCount);
      const failedId = idOf(redrive.deadLetterTargetArn);
      expect(template.toJSON().Resources[failedId]?.Type).toBe('AWS::SQS::Queue');
      // Not the rule's dead-letter queue: one holds what was never queued, the other what the consumer failed on.
      expect(failedId).not.toBe(idOf((target.DeadLetterConfig as { Arn: unknown }).Arn));
    },
  );

  it.each(bySubscription)(
    '%s: the consumer reads the queue through an event source mapping with its batch size and window, and partial batch responses',
    (_name, subscription) => {
      const { mapping, queueId } = wiringOf(subscription);
      expect(mapping?.Properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        BatchSize: subscription.delivery.batchSize,
        MaximumBatchingWindowInSeconds: subscription.delivery.batchingWindowSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect(mapping?.Properties.Enabled ?? true).toBe(true);
    },
  );

  it('encrypts every queue and requires TLS, and alarms on the first message of each dead-letter queue', () => {
    const queues = resourcesOf('AWS::SQS::Queue');
    const consumerQueues = new Set(subscriptions.map((subscription) => wiringOf(subscription).queueId));
    // Per subscription: its queue, the rule's dead-letter queue and the failed-messages queue; for
    // the scheduled records jobs: the schedules' dead-letter queue and one failure queue per job;
    // the route functions' telemetry dead-letter queue; and the audit archive rules' dead-letter queue.
    const jobs = Object.keys(RECORD_JOB_HANDLERS).length;
    expect(queues).toHaveLength(3 * subscriptions.length + 1 + jobs + 1 + 1);
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    for (const [queueId, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled, queueId).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: { Statement: Match.arrayWith([tlsOnlyStatement(queueId)]) },
      });
      if (!consumerQueues.has(queueId)) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', firstMessageAlarm(queueId, topic));
      }
    }
    // Both dead-letter queues of every subscription are among the alarmed ones.
    for (const subscription of subscriptions) {
      const { queue, target } = wiringOf(subscription);
      for (const deadLetter of [
        (queue.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn,
        (target.DeadLetterConfig as { Arn: unknown }).Arn,
      ]) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', firstMessageAlarm(idOf(deadLetter), topic));
      }
    }
  });

  it('refuses a subscription to a detail-type that is not in the catalog', () => {
    const stack = new Stack(new App({ autoSynth: false }), 'Probe');
    const table = new dynamodb.Table(stack, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    const build = () =>
      new EventConsumers(stack, 'Consumers', {
        stage: 'dev',
        policy: stagePolicy('dev'),
        eventBus: new events.EventBus(stack, 'Bus'),
        catalog,
        subscriptions: [
          {
            name: 'Typo',
            detailTypes: ['Audit Recrod'],
            handler: 'events/record-telemetry',
            needs: [],
            delivery: RECORDS_QUEUE_DELIVERY,
          },
        ],
        auditTable: table,
        usageTable: table,
      });
    expect(build).toThrow(/Audit Recrod/);
  });
});
