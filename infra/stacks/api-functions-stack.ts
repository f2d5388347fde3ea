import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { grantNeeds, type NeedResources } from '#infra/constructs/needs';
import { TenantryFunction } from '#infra/constructs/tenantry-function';
import type { StagePolicy } from '#infra/stage-policy';
import { routeFunctionNeeds } from '#shared/routes/function-needs';
import type { RouteSpec } from '#shared/routes/types';

/** The route functions' Powertools service name: their logs and the `service` metric dimension. */
export const API_SERVICE_NAME = 'tenantry-api';

/** `me/get-me` -> `MeGetMe`: a stable construct id per handler entry. */
export function constructIdFor(handler: string): string {
  return handler
    .split(/[/-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** `core` -> `Core`, `dataImports` -> `DataImports`: the group's part of its stack's name. */
export function stackSuffixFor(group: string): string {
  if (!/^[a-z][a-zA-Z0-9]*$/.test(group)) {
    throw new Error(`Route group "${group}" must be a camelCase key: it names a CloudFormation stack`);
  }
  return group.charAt(0).toUpperCase() + group.slice(1);
}

/** The routes of one route group, whose functions one ApiFunctionsStack holds. */
export interface RouteFunctionGroup {
  readonly group: string;
  readonly routes: readonly RouteSpec[];
}

/**
 * The route groups (shared/routes/table.ts, `routeGroups`) as the partition of the route
 * functions over stacks: one stack per group, in the table's order. The rule looks at nothing but
 * the group a route is declared in, so a new route, or a new group, never moves an existing
 * function (a function that changes stacks is a new function: CloudFormation creates it in the
 * new stack and deletes the old one). A handler that serves routes of two groups would belong to
 * two stacks, so it fails the synthesis.
 */
export function routeFunctionGroups(
  groups: Readonly<Record<string, Readonly<Record<string, RouteSpec>>>>,
): RouteFunctionGroup[] {
  const groupOf = new Map<string, string>();
  return Object.entries(groups).map(([group, routes]) => {
    stackSuffixFor(group);
    for (const route of Object.values(routes)) {
      const other = groupOf.get(route.handler);
      if (other !== undefined && other !== group) {
        throw new Error(
          `Handler ${route.handler} serves routes of the groups "${other}" and "${group}": a function lives in one stack, so its routes belong to one group`,
        );
      }
      groupOf.set(route.handler, group);
    }
    return { group, routes: Object.values(routes) };
  });
}

export interface ApiFunctionsStackProps extends StackProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  /** The routes of one group: one function per handler they name. */
  readonly routes: readonly RouteSpec[];
  /** What the functions' needs are granted on (infra/constructs/needs.ts). */
  readonly resources: NeedResources;
}

/**
 * The functions of one route group, each with its role, policy and log group (four resources
 * per handler). The HTTP API, its routes, integrations and invoke permissions stay in the Api
 * stack, which imports each function's ARN: the Api stack depends on these stacks and these
 * never on it, so they deploy first and a function exists before a route points at it.
 *
 * Why stacks at all: CloudFormation allows 500 resources per stack, and the Api stack held seven
 * per route function (function, role, policy, log group, integration, route, permission).
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 *
 * The functions run outside the VPC: they reach the database through the RDS Data API over
 * HTTPS and every other service through its public endpoint, so a VPC would add NAT or endpoint
 * costs and cold-start latency without narrowing what they can reach (IAM does that).
 */
export class ApiFunctionsStack extends Stack {
  /** Functions by handler entry. */
  readonly functions = new Map<string, TenantryFunction>();

  constructor(scope: Construct, id: string, props: ApiFunctionsStackProps) {
    super(scope, id, props);
    // Each function gets the union of the needs of the routes it serves, and nothing else.
    for (const [handler, needs] of routeFunctionNeeds(props.routes)) {
      const fn = new TenantryFunction(this, constructIdFor(handler), {
        handler,
        stage: props.stage,
        policy: props.policy,
        serviceName: API_SERVICE_NAME,
      });
      grantNeeds(fn, needs, props.resources);
      this.functions.set(handler, fn);
    }
  }
}
