import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { EventConsumers } from '#infra/constructs/event-consumers';
import { stagePolicy } from '#infra/stage-policy';
import { catalog } from '#shared/events/events';
import { subscriptions } from '#shared/events/subscriptions';
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
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
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

  it('gives every rule target a dead-letter queue and a retry policy', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
    const targets = rules.flatMap((rule) => rule.Properties.Targets as Record<string, unknown>[]);
    expect(targets.length).toBeGreaterThanOrEqual(subscriptions.length);
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    for (const target of targets) {
      const deadLetter = target.DeadLetterConfig as { Arn: { 'Fn::GetAtt': [string, string] } } | undefined;
      expect(deadLetter).toBeDefined();
      expect(queues).toContain(deadLetter?.Arn['Fn::GetAtt'][0]);
      expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 });
    }
  });

  it('encrypts every dead-letter and failure queue, requires TLS, and alarms on their first message', () => {
    const queues = Object.entries(template.findResources('AWS::SQS::Queue')) as [string, Resource][];
    // Per subscription: the rule's dead-letter queue and the consumer's failure destination; for
    // the scheduled records jobs: the schedules' dead-letter queue and one failure queue per job.
    expect(queues).toHaveLength(2 * subscriptions.length + 1 + 2);
    for (const [queueId, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: { Statement: Match.arrayWith([tlsOnlyStatement(queueId)]) },
      });
      template.hasResourceProperties(
        'AWS::CloudWatch::Alarm',
        firstMessageAlarm(queueId, Object.keys(template.findResources('AWS::SNS::Topic'))[0]),
      );
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
          { name: 'Typo', detailTypes: ['Audit Recrod'], handler: 'events/record-audit', needs: [] },
        ],
        auditTable: table,
        usageTable: table,
      });
    expect(build).toThrow(/Audit Recrod/);
  });
});
