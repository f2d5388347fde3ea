import { Token } from 'aws-cdk-lib';
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
    const stacks = [built.stateful, built.provisioning, built.identity, built.api, built.events];

    expect(stacks.map((stack) => stack.stackName)).toEqual([
      'Tenantry-qa-Stateful',
      'Tenantry-qa-Provisioning',
      'Tenantry-qa-Identity',
      'Tenantry-qa-Api',
      'Tenantry-qa-Events',
    ]);
    for (const stack of stacks) {
      expect(Token.isUnresolved(stack.account), stack.stackName).toBe(true);
      expect(Token.isUnresolved(stack.region), stack.stackName).toBe(true);
    }
  });

  it('keeps compute stacks dependent on the stateful stack, never the other way round', () => {
    const built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    built.app.synth();
    expect(built.stateful.dependencies).toEqual([]);
    for (const stack of [built.provisioning, built.identity, built.api, built.events]) {
      expect(stack.dependencies, stack.stackName).toContain(built.stateful);
    }
  });
});
