import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type TenantryApp } from '#infra/app';
import { InvalidPlansError } from '#infra/plans-context';
import { planSettingsFrom } from '#shared/domain/plans';
import { declaredNeeds } from '#shared/routes/function-needs';

type Variables = Record<string, unknown>;

/** Each function's environment variables, by its handler entry (from the construct's needs map). */
function environments(built: TenantryApp): Map<string, Variables> {
  const out = new Map<string, Variables>();
  for (const stack of built.apiFunctions) {
    const resource = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { Handler: 'index.handler' },
    });
    for (const [handler, fn] of stack.functions) {
      const logical = stack.getLogicalId(fn.function.node.defaultChild as never);
      const variables = (resource[logical]?.Properties as { Environment?: { Variables: Variables } })
        ?.Environment?.Variables;
      out.set(handler, variables ?? {});
    }
  }
  return out;
}

describe('the plan catalogue from the CDK context', () => {
  let built: TenantryApp;
  const plans = {
    free: { databases: 1 },
    team: { ...planSettingsFrom(undefined).plans.standard, members: 30 },
  };

  beforeAll(() => {
    built = buildApp({
      stage: 'dev',
      bundle: false,
      cloudFormationValidation: false,
      plans: { plans, defaultPlan: 'team' },
    });
  });

  it('reaches exactly the functions that declare the plans need, as the JSON they validate', () => {
    const needs = declaredNeeds();
    const byHandler = environments(built);
    expect(byHandler.size).toBeGreaterThan(10);
    for (const [handler, variables] of byHandler) {
      const declares = needs.get(handler)?.includes('plans') ?? false;
      expect('TENANT_PLANS' in variables, handler).toBe(declares);
      if (!declares) continue;
      const settings = planSettingsFrom(String(variables.TENANT_PLANS));
      expect(settings.defaultPlan).toBe('team');
      expect(settings.plans.free?.databases).toBe(1);
      expect(settings.plans.team?.members).toBe(30);
    }
    expect(byHandler.get('tenants/put-plan')).toHaveProperty('TENANT_PLANS');
    // Every tenant route is rate-limited by its tenant's plan; a route of no tenant has no catalogue.
    expect(byHandler.get('rows/list-rows')).toHaveProperty('TENANT_PLANS');
    expect(byHandler.get('me/get-me')).not.toHaveProperty('TENANT_PLANS');
    // The post-confirmation trigger registers tenants too.
    const triggers = Template.fromStack(built.identity).findResources('AWS::Lambda::Function');
    const withPlans = Object.values(triggers).filter(
      (fn) =>
        'TENANT_PLANS' in
        ((fn.Properties as { Environment?: { Variables: Variables } }).Environment?.Variables ?? {}),
    );
    expect(withPlans).toHaveLength(1);
  });

  it('fails the synthesis on a catalogue the functions would refuse', () => {
    expect(() =>
      buildApp({
        stage: 'dev',
        bundle: false,
        cloudFormationValidation: false,
        plans: { defaultPlan: 'gold' },
      }),
    ).toThrow(InvalidPlansError);
    expect(() =>
      buildApp({
        stage: 'dev',
        bundle: false,
        cloudFormationValidation: false,
        plans: { plans: '{"free":{"seats":1}}' },
      }),
    ).toThrow(/seats|plans\.free/);
  });
});
