import { Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type TenantryApp } from '#infra/app';
import { routeFunctionGroups } from '#infra/stacks/api-functions-stack';
import { MAX_CLUSTERS } from '#shared/domain/clusters';
import { routeGroups, routeList } from '#shared/routes/table';
import type { RouteSpec } from '#shared/routes/types';

/*
 * CloudFormation refuses a stack of more than 500 resources or 200 outputs (each cross-stack
 * reference CDK makes is one output, with an export, of the referenced stack):
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 * The headroom fails this test while a deploy would still pass, so the route that would break a
 * deploy breaks a test first; a route function costs its functions stack 4 resources and one
 * output, its route costs the Api stack 3 resources (route, integration, invoke permission).
 */
const RESOURCE_HEADROOM = 400;
const OUTPUT_HEADROOM = 160;

interface SynthesizedTemplate {
  Resources?: Record<string, unknown>;
  Outputs?: Record<string, unknown>;
}

function templatesOf(built: TenantryApp) {
  const assembly = built.app.synth();
  return built.stacks.map((stack) => ({
    name: stack.stackName,
    template: assembly.getStackByName(stack.stackName).template as SynthesizedTemplate,
  }));
}

// prod with the most clusters a deployment may have: each is a cluster, its writer, subnet group,
// security group and log group in the Stateful stack, and outputs for the stacks that use it.
describe.each([
  ['dev', 1],
  ['prod', MAX_CLUSTERS],
])('CloudFormation quotas on stage %s with %i clusters', (stage, clusters) => {
  let built: TenantryApp;
  let templates: ReturnType<typeof templatesOf>;

  beforeAll(() => {
    built = buildApp({ stage, bundle: false, cloudFormationValidation: false, clusters });
    templates = templatesOf(built);
  });

  it(`keeps every stack at ${RESOURCE_HEADROOM} resources or fewer (the limit is 500)`, () => {
    const counts = Object.fromEntries(
      templates.map(({ name, template }) => [name, Object.keys(template.Resources ?? {}).length]),
    );
    for (const [name, count] of Object.entries(counts)) {
      expect(count, `${name} has ${count} resources`).toBeLessThanOrEqual(RESOURCE_HEADROOM);
    }
    // The route functions are no longer in the Api stack: it grows by 3 per route, not 7.
    const api = counts[built.api.stackName] ?? 0;
    expect(api).toBeLessThan(3 * routeList.length + 20);
  });

  it(`keeps every stack at ${OUTPUT_HEADROOM} outputs or fewer (the limit is 200)`, () => {
    for (const { name, template } of templates) {
      const outputs = Object.keys(template.Outputs ?? {}).length;
      expect(outputs, `${name} has ${outputs} outputs`).toBeLessThanOrEqual(OUTPUT_HEADROOM);
    }
  });

  it('puts every route function in the stack of its route group', () => {
    for (const [index, { group, routes }] of routeFunctionGroups(routeGroups).entries()) {
      const stack = built.apiFunctions[index];
      expect(stack?.stackName).toBe(
        `Tenantry-${stage}-ApiFunctions-${group.charAt(0).toUpperCase()}${group.slice(1)}`,
      );
      for (const route of routes) {
        const fn = built.routeFunctions.get(route.handler);
        expect(fn && Stack.of(fn), route.handler).toBe(stack);
      }
    }
  });
});

/** A route of the given handler, as a group would declare it. */
function routeOf(handler: string, path: string): RouteSpec {
  return { ...(routeList[0] as RouteSpec), handler, path, operationId: handler };
}

describe('the partition of the route functions over stacks', () => {
  const handlersByGroup = (groups: Parameters<typeof routeFunctionGroups>[0]) =>
    new Map(
      routeFunctionGroups(groups).flatMap(({ group, routes }) =>
        routes.map((route) => [route.handler, group] as const),
      ),
    );

  it('covers every route exactly once: the table is the union of its groups', () => {
    const grouped = Object.values(routeGroups).flatMap((group) => Object.values(group));
    expect(grouped).toHaveLength(routeList.length);
    expect(new Set(grouped)).toEqual(new Set(routeList));
  });

  it('moves no existing function when a route or a whole group is added', () => {
    // Arrange
    const before = handlersByGroup(routeGroups);
    const grown = {
      ...routeGroups,
      core: { ...routeGroups.core, addedToCore: routeOf('tenants/added-to-core', '/added') },
      addedGroup: { getAddedReport: routeOf('platform/get-added-report', '/platform/added-report') },
    };

    // Act
    const after = handlersByGroup(grown);

    // Assert
    for (const [handler, group] of before) expect(after.get(handler), handler).toBe(group);
    expect(after.get('tenants/added-to-core')).toBe('core');
    expect(after.get('platform/get-added-report')).toBe('addedGroup');
  });

  it('refuses a handler whose routes are in two groups (a function lives in one stack)', () => {
    const shared = routeOf('tenants/get-tenant', '/elsewhere');
    expect(() => routeFunctionGroups({ ...routeGroups, other: { shared } })).toThrow(
      /tenants\/get-tenant serves routes of the groups "core" and "other"/,
    );
  });

  it.each(['Core', 'data-imports', 'with space', ''])(
    'refuses the group key %j (it names a stack)',
    (key) => {
      expect(() => routeFunctionGroups({ [key]: routeGroups.roles })).toThrow(/must be a camelCase key/);
    },
  );
});
