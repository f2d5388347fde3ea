import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { routeFunctionNeeds } from '#shared/routes/function-needs';
import { provisioningSteps } from '#shared/workflows/provisioning';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

interface StatementWithResource extends Statement {
  Resource: unknown;
}

/**
 * Tenant data in AWS: the routes that declare `tenantData` may assume the tenant-access role (and
 * only it), no route function reads a tenant secret with its own role, and the module upgrade
 * steps are functions of the provisioning workflow like every other step.
 */
describe('tenant data in the CDK app', () => {
  let built: ReturnType<typeof buildApp>;
  const templates = new Map<Stack, Template>();
  /** The template of the API functions stack that holds the function. */
  const templateOf = (stack: Stack): Template => {
    const template = templates.get(stack) ?? Template.fromStack(stack);
    templates.set(stack, template);
    return template;
  };

  beforeAll(() => {
    built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
  });

  const statementsOf = (handler: string): Statement[] => {
    const fn = built.routeFunctions.get(handler);
    if (!fn) throw new Error(`no function for ${handler}`);
    const roleId = Stack.of(fn).resolve(
      (fn.role.node.defaultChild as unknown as { logicalId: string }).logicalId,
    ) as string;
    return Object.values(templateOf(Stack.of(fn)).findResources('AWS::IAM::Policy'))
      .filter((policy) =>
        JSON.stringify((policy as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleId),
      )
      .flatMap(
        (policy) =>
          (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
            .Statement,
      );
  };

  it('lets exactly the routes that declare tenantData assume the tenant-access role, and no route read a tenant secret', () => {
    const declared = routeFunctionNeeds();
    const handlers = [...built.routeFunctions.keys()];
    const dataHandlers = handlers.filter((h) => declared.get(h)?.includes('tenantData'));
    // The table, row and module-data routes.
    expect(dataHandlers.length).toBeGreaterThanOrEqual(12);
    const roleArn = Stack.of(built.api).resolve(built.provisioning.tenantAccessRole.roleArn);
    for (const handler of handlers) {
      const statements = statementsOf(handler) as StatementWithResource[];
      const assumes = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('sts:')));
      if (dataHandlers.includes(handler)) {
        expect(assumes, handler).toHaveLength(1);
        expect(assumes[0]?.Sid).toBe('AssumeTenantAccessRole');
        expect([assumes[0]?.Action].flat().sort()).toEqual(['sts:AssumeRole', 'sts:TagSession']);
        expect(JSON.stringify(assumes[0]?.Resource)).toContain('TenantAccessRole');
        expect(roleArn).toBeDefined();
      } else {
        expect(assumes, handler).toHaveLength(0);
      }
      const secretReads = statements.filter((s) => JSON.stringify(s.Resource).includes(':secret:tn/'));
      expect(secretReads, handler).toEqual([]);
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
