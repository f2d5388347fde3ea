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

/** The one managed policy CDK's core custom resource providers attach, with no option to change it. */
const BASIC_EXECUTION_ROLE = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, not JavaScript
  'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
};

describe('IAM across the app', () => {
  let templates: Template[];
  let prodTemplates: Template[];

  beforeAll(() => {
    const templatesOf = (stage: string) => {
      const built = buildApp({ stage, bundle: false, cloudFormationValidation: false });
      return built.stacks.map((stack) => Template.fromStack(stack));
    };
    templates = templatesOf('dev');
    prodTemplates = templatesOf('prod');
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

  it('attaches no AWS managed policy to any role but, on dev, that of CDK’s bucket auto-delete provider', () => {
    const withManagedPolicies = (list: Template[]) =>
      list.flatMap((template) =>
        Object.entries(template.findResources('AWS::IAM::Role'))
          .map(([id, role]) => [id, (role as { Properties: { ManagedPolicyArns?: unknown } }).Properties])
          .filter(([, properties]) => (properties as { ManagedPolicyArns?: unknown }).ManagedPolicyArns)
          .map(([id, properties]) => ({
            id,
            managed: (properties as { ManagedPolicyArns: unknown }).ManagedPolicyArns,
          })),
      );
    // `autoDeleteObjects` (dev buckets only) brings CDK's CustomResourceProvider, one per stack
    // with such buckets (Stateful, Console), whose role always has AWSLambdaBasicExecutionRole
    // (CloudWatch Logs writes); it gets S3 access from its buckets' policies only. cdk-nag does not
    // inspect that raw CfnResource role. The console's bucket deployment has a role of its own.
    const autoDeleteRole = {
      id: expect.stringMatching(/^CustomS3AutoDeleteObjectsCustomResourceProviderRole/),
      managed: [BASIC_EXECUTION_ROLE],
    };
    expect(withManagedPolicies(templates)).toEqual([autoDeleteRole, autoDeleteRole]);
    expect(withManagedPolicies(prodTemplates)).toEqual([]);
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
