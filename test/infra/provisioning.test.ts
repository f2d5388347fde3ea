import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type TenantryApp } from '#infra/app';
import { TENANT_ID_TAG } from '#infra/stacks/provisioning-stack';
import { tenantSecretPrefix } from '#shared/provisioning/names';
import {
  provisioningDefinition,
  provisioningStepNeeds,
  provisioningSteps,
} from '#shared/workflows/provisioning';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string>>;
}

describe('ProvisioningStack', () => {
  let built: TenantryApp;
  let template: Template;

  beforeAll(() => {
    built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    template = Template.fromStack(built.provisioning);
  });

  it('runs the shared definition as a traced, logged Standard workflow', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: Record<string, unknown>;
    }[];
    expect(machine?.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      DefinitionString: JSON.stringify(provisioningDefinition((step) => `\${${step}}`)),
    });
    const substitutions = machine?.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual(Object.keys(provisioningSteps).sort());
    for (const step of Object.keys(provisioningSteps)) {
      expect(substitutions[step]).toEqual({
        'Fn::GetAtt': [expect.stringMatching(`^${step}Function`), 'Arn'],
      });
    }
  });

  it('lets the workflow invoke exactly its step functions', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: Statement[] }; Roles: { Ref: string }[] };
    }[];
    const workflowPolicy = policies.find((policy) =>
      policy.Properties.Roles[0]?.Ref.startsWith('ProvisioningWorkflowRole'),
    );
    const invoke = workflowPolicy?.Properties.PolicyDocument.Statement.find(
      (statement) => statement.Action === 'lambda:InvokeFunction',
    );
    expect(invoke?.Resource).toHaveLength(Object.keys(provisioningSteps).length);
    expect(JSON.stringify(invoke?.Resource)).not.toContain(':*');
  });

  it('restricts tenant secrets to the stage prefix and to secrets tagged with a tenant id', () => {
    const statements = (
      Object.values(template.findResources('AWS::IAM::Policy')) as {
        Properties: { PolicyDocument: { Statement: Statement[] } };
      }[]
    ).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    const secretStatements = statements.filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('secretsmanager:')),
    );
    const tenantStatements = secretStatements.filter((statement) =>
      JSON.stringify(statement.Resource).includes(`secret:${tenantSecretPrefix('dev')}*`),
    );
    // Only the steps that declare a tenant-secret need, one statement per grant, plus the
    // tenant-access role's own (test/infra/tenant-access-role.test.ts)
    const perNeed: Record<string, number> = {
      tenantSecretsCreate: 3,
      tenantSecretsRead: 1,
      tenantSecretsDelete: 2,
    };
    const expected = Object.values(provisioningStepNeeds)
      .flat()
      .reduce((sum: number, need: string) => sum + (perNeed[need] ?? 0), 0);
    // Create 3, read 1, delete 2 each for compensation, offboarding and a failed clone's compensation;
    // a move's copy creates (3), its finish and its compensation delete (2 each).
    expect(expected).toBe(17);
    expect(tenantStatements.filter((s) => s.Sid !== 'ReadOwnTenantSecret')).toHaveLength(expected);
    for (const statement of tenantStatements) {
      if (statement.Sid === 'ReadOwnTenantSecret') continue;
      if (statement.Sid === 'DescribeTenantSecrets') {
        // Metadata only, and no tag condition: a missing secret answers ResourceNotFoundException
        // (a tag-conditioned request for it is AccessDeniedException), so deleting looks first.
        expect(statement.Action).toBe('secretsmanager:DescribeSecret');
        expect(statement.Condition).toBeUndefined();
        continue;
      }
      const tagKey =
        statement.Sid === 'CreateTaggedTenantSecrets'
          ? `aws:RequestTag/${TENANT_ID_TAG}`
          : `secretsmanager:ResourceTag/${TENANT_ID_TAG}`;
      expect(statement.Condition).toEqual({ Null: { [tagKey]: 'false' } });
      expect([statement.Action].flat()).not.toContain('secretsmanager:DescribeSecret');
    }
    // Any other secret access is the cluster's master secret, the control application secret or the pool secret,
    // by its exact ARN
    for (const statement of secretStatements.filter((s) => !tenantStatements.includes(s))) {
      expect(JSON.stringify(statement.Resource)).toMatch(/MasterUserSecret|ControlAppSecret|PoolAppSecret/);
    }
  });

  it('answers CloudFormation for the control migrations through the Provider framework, bounded by the migrator’s timeout', () => {
    const functions = template.findResources('AWS::Lambda::Function') as Record<
      string,
      {
        Properties: {
          Description?: string;
          Timeout?: number;
          Role?: unknown;
          Environment?: { Variables: Record<string, unknown> };
        };
      }
    >;
    const [migratorId, migrator] =
      Object.entries(functions).find(
        ([, fn]) => fn.Properties.Description === 'Tenantry ops/migrate-control-db',
      ) ?? [];
    const [frameworkId, framework] =
      Object.entries(functions).find(([, fn]) =>
        fn.Properties.Description?.startsWith('AWS CDK resource provider framework - onEvent'),
      ) ?? [];
    template.hasResourceProperties('Custom::TenantryControlMigrations', {
      ServiceToken: { 'Fn::GetAtt': [frameworkId, 'Arn'] },
      // CloudFormation gives up on a silent handler after 10 minutes, not its default hour.
      ServiceTimeout: '600',
    });
    expect(framework?.Properties.Environment?.Variables.USER_ON_EVENT_FUNCTION_ARN).toEqual({
      'Fn::GetAtt': [migratorId, 'Arn'],
    });
    // Synchronous provider (a total timeout needs an isComplete handler): the migrator gives up at
    // 5 minutes, well inside the framework function's 15, which then reports the failure.
    expect(migrator?.Properties.Timeout).toBe(300);
    expect(framework?.Properties.Timeout).toBe(900);
    // The framework's role has no AWS managed policy; it writes only to its own log group.
    const roleRef = framework?.Properties.Role as { 'Fn::GetAtt': [string, string] } | undefined;
    const roles = template.findResources('AWS::IAM::Role') as Record<
      string,
      { Properties: Record<string, unknown> }
    >;
    const role = roles[roleRef?.['Fn::GetAtt'][0] ?? ''];
    expect(role).toBeDefined();
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
  });
});
