import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Actions AWS offers no resource-level permissions for. */
const RESOURCELESS_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

describe('IAM across the app', () => {
  let templates: Template[];

  beforeAll(() => {
    const built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    templates = [built.stateful, built.provisioning, built.identity, built.api, built.events].map((stack) =>
      Template.fromStack(stack),
    );
  });

  it('allows "*" resources only for actions that have no resource-level permissions', () => {
    let wildcardStatements = 0;
    for (const template of templates) {
      for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
        const statements = (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } })
          .Properties.PolicyDocument.Statement;
        for (const statement of statements) {
          if (statement.Effect !== 'Allow' || ![statement.Resource].flat().includes('*')) continue;
          wildcardStatements++;
          for (const action of [statement.Action].flat()) {
            expect(RESOURCELESS_ACTIONS.has(action), action).toBe(true);
          }
        }
      }
    }
    expect(wildcardStatements).toBeGreaterThan(0);
  });

  it('attaches no AWS managed policy to any role', () => {
    for (const template of templates) {
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect(
          (role as { Properties: { ManagedPolicyArns?: unknown } }).Properties.ManagedPolicyArns,
        ).toBeUndefined();
      }
    }
  });

  it('never grants a service-wide action wildcard', () => {
    for (const template of templates) {
      for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
        const statements = (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } })
          .Properties.PolicyDocument.Statement;
        for (const action of statements.flatMap((statement) => [statement.Action].flat())) {
          expect(action).not.toMatch(/:\*$/);
        }
      }
    }
  });
});
