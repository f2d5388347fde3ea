import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { TENANT_DATA_HANDLER } from '#infra/stacks/api-stack';
import { provisioningSteps } from '#shared/workflows/provisioning';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

/**
 * Tenant data in AWS: the table, row and module routes may read tagged tenant secrets (the Data
 * API uses the caller's credentials to read the tenant role's secret), no other route may, and the
 * module upgrade steps are functions of the provisioning workflow like every other step.
 */
describe('tenant data in the CDK app', () => {
  let built: ReturnType<typeof buildApp>;
  let api: Template;

  beforeAll(() => {
    built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    api = Template.fromStack(built.api);
  });

  const statementsOf = (handler: string): Statement[] => {
    const fn = built.api.functions.get(handler);
    if (!fn) throw new Error(`no function for ${handler}`);
    const roleId = Stack.of(fn).resolve(
      (fn.role.node.defaultChild as unknown as { logicalId: string }).logicalId,
    ) as string;
    return Object.values(api.findResources('AWS::IAM::Policy'))
      .filter((policy) =>
        JSON.stringify((policy as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleId),
      )
      .flatMap(
        (policy) =>
          (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
            .Statement,
      );
  };

  it('lets exactly the table, row and module routes read tenant secrets, GetSecretValue only, with the tenant tag required', () => {
    const handlers = [...built.api.functions.keys()];
    const dataHandlers = handlers.filter((h) => TENANT_DATA_HANDLER.test(h));
    expect(dataHandlers.length).toBeGreaterThanOrEqual(13);
    for (const handler of handlers) {
      const reads = statementsOf(handler).filter((s) => s.Sid === 'ReadTaggedTenantSecrets');
      if (dataHandlers.includes(handler)) {
        expect(reads, handler).toHaveLength(1);
        expect(reads[0]?.Action).toBe('secretsmanager:GetSecretValue');
        expect(reads[0]?.Condition).toEqual({
          Null: { 'secretsmanager:ResourceTag/tenantry:tenant-id': 'false' },
        });
      } else {
        expect(reads, handler).toHaveLength(0);
      }
    }
  });

  it('deploys the module upgrade steps as provisioning step functions named in the state machine', () => {
    for (const step of [
      'PlanModuleUpgrade',
      'LoadModuleUpgradeWave',
      'UpgradeModuleDatabase',
      'RecordModuleUpgradeFailure',
      'FinishModuleUpgrade',
    ] as const) {
      expect(provisioningSteps[step]).toBeDefined();
      expect(built.provisioning.stepFunctions[step]).toBeDefined();
    }
    const machine = Object.values(
      Template.fromStack(built.provisioning).findResources('AWS::StepFunctions::StateMachine'),
    )[0] as {
      Properties: { DefinitionSubstitutions: Record<string, unknown>; DefinitionString: unknown };
    };
    expect(Object.keys(machine.Properties.DefinitionSubstitutions)).toEqual(
      expect.arrayContaining(['UpgradeModuleDatabase', 'RecordModuleUpgradeFailure']),
    );
    expect(JSON.stringify(machine.Properties.DefinitionString)).toContain('UpgradeWaves');
  });
});
