import { Stack, Token } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildApp, InvalidStageError, parseStage } from '#infra/app';

describe('the CDK app', () => {
  it.each(['Prod', 'x', '1dev', 'dev_1', 'a'.repeat(22), '', 'dev;rm'])(
    'rejects the stage name %j',
    (stage) => {
      expect(() => buildApp({ stage, bundle: false, cloudFormationValidation: false })).toThrow(
        InvalidStageError,
      );
      expect(() => parseStage(stage)).toThrow(/^Invalid stage .*: must start with a lower-case letter/);
    },
  );

  it('explains a missing stage', () => {
    expect(() => parseStage(undefined)).toThrow(/"stage" is required \(-c stage=dev\)/);
  });

  it('accepts lower-case stage names with digits and hyphens', () => {
    expect(parseStage('dev')).toBe('dev');
    expect(parseStage('pr-42')).toBe('pr-42');
  });

  it('names the stacks Tenantry-<stage>-<Name> and fixes no account or region', () => {
    const built = buildApp({ stage: 'qa', bundle: false, cloudFormationValidation: false });
    const stacks = built.stacks;

    expect(stacks.map((stack) => stack.stackName)).toEqual([
      'Tenantry-qa-Stateful',
      'Tenantry-qa-Provisioning',
      'Tenantry-qa-Identity',
      'Tenantry-qa-Events',
      'Tenantry-qa-ApiFunctions-Core',
      'Tenantry-qa-ApiFunctions-Roles',
      'Tenantry-qa-ApiFunctions-Quotas',
      'Tenantry-qa-ApiFunctions-Hierarchy',
      'Tenantry-qa-ApiFunctions-Records',
      'Tenantry-qa-ApiFunctions-Data',
      'Tenantry-qa-ApiFunctions-Bulk',
      'Tenantry-qa-ApiFunctions-Backups',
      'Tenantry-qa-ApiFunctions-Clusters',
      'Tenantry-qa-ApiFunctions-Reports',
      'Tenantry-qa-Api',
      'Tenantry-qa-Console',
      'Tenantry-qa-ConsoleContent',
    ]);
    expect(built.app.node.children.filter((child) => Stack.isStack(child))).toHaveLength(stacks.length);
    for (const stack of stacks) {
      expect(Token.isUnresolved(stack.account), stack.stackName).toBe(true);
      expect(Token.isUnresolved(stack.region), stack.stackName).toBe(true);
    }
  });

  it('keeps compute stacks dependent on the stateful stack, never the other way round', () => {
    const built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    built.app.synth();
    expect(built.stateful.dependencies).toEqual([]);
    // The Api stack through its functions stacks: it references no stateful resource itself.
    const dependsOnStateful = (stack: Stack): boolean =>
      stack.dependencies.some((dependency) => dependency === built.stateful || dependsOnStateful(dependency));
    for (const stack of [
      built.provisioning,
      built.identity,
      built.api,
      built.events,
      ...built.apiFunctions,
    ]) {
      expect(dependsOnStateful(stack), stack.stackName).toBe(true);
    }
  });

  it('deploys the route functions before the API that routes to them, and never the other way round', () => {
    const built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    built.app.synth();
    for (const stack of built.apiFunctions) {
      expect(built.api.dependencies, stack.stackName).toContain(stack);
      expect(stack.dependencies, stack.stackName).not.toContain(built.api);
    }
  });
});
