/**
 * The IAM stand-in of a running local platform: the synthesized templates of its stage (cached,
 * or a given cloud assembly such as `cdk.out`), every function's policies with the local
 * resources' names, the authorizer every stand-in asks, and each function's own credentials.
 */

import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClusterSetting } from '#shared/domain/clusters';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './access.ts';
import { cachedAssembly } from './assembly-cache.ts';
import { readAssembly } from './cloud-assembly.ts';
import { type EventSourceMapping, eventSourceMappingsOf } from './event-source-mappings.ts';
import { generatedPhysicalNames, type LocalResourceNames, localPhysicalNames } from './local-names.ts';
import { arnsIn } from './physical-names.ts';
import {
  createTemplateAuthorizer,
  type LocalCredentials,
  type TemplateAuthorizer,
} from './template-authorizer.ts';
import {
  type CloudAssemblyTemplates,
  type FunctionPolicies,
  functionPoliciesOf,
  type RolePolicies,
  rolesOf,
} from './template-policies.ts';

/** The tag the tenant-access role carries (`tenantry:role` = `tenant-access`, issue 12). */
export const ROLE_TAG = 'tenantry:role';
export const TENANT_ACCESS_ROLE = 'tenant-access';

export interface AssemblySource {
  readonly stage: string;
  readonly repoRoot: string;
  /** An existing cloud assembly to read (e.g. `cdk.out` of `npm run synth`). @default - synthesized in-process, cached */
  readonly assemblyDir?: string;
  /** @default `<os tmpdir>/tenantry-assemblies` */
  readonly cacheDir?: string;
  /** The clusters to synthesize with (`--clusters`). @default - one cluster, `primary` */
  readonly clusters?: readonly ClusterSetting[];
}

/** The templates the platform's IAM is read from. */
export function loadAssembly(source: AssemblySource): Promise<CloudAssemblyTemplates> {
  if (source.assemblyDir) return readAssembly(source.assemblyDir);
  return cachedAssembly({
    stage: source.stage,
    repoRoot: source.repoRoot,
    cacheDir: source.cacheDir ?? path.join(tmpdir(), 'tenantry-assemblies'),
    ...(source.clusters ? { clusters: source.clusters } : {}),
  });
}

export interface PlatformIam {
  readonly authorizer: TemplateAuthorizer;
  readonly functions: readonly FunctionPolicies[];
  /** Every role of the templates: what the STS stand-in's AssumeRole can assume. */
  readonly roles: readonly RolePolicies[];
  /**
   * The ARN of the role tagged `tenantry:role` = `tenant-access`, which request handlers assume
   * with a `TenantId` session tag; undefined while the templates have none.
   */
  readonly tenantAccessRoleArn: string | undefined;
  /** The provisioning state machine's ARN, as the templates name it. */
  readonly stateMachineArn: string;
  /** The ARN of the telemetry dead-letter queue, as the grants name it. */
  readonly telemetryDeadLetterQueueArn: string;
  /** The SQS event source mappings of the templates (the event consumers'), with their queues' settings. */
  readonly eventSourceMappings: readonly EventSourceMapping[];
  /** A function's own credentials; undefined for code that is no function of the templates. */
  credentialsFor(entry: string | undefined): LocalCredentials | undefined;
  /** The variables the template sets for a function; undefined for code that is no function. */
  environmentKeysOf(entry: string | undefined): readonly string[] | undefined;
}

interface StateMachineResource {
  readonly Type: string;
  readonly Properties?: { readonly StateMachineName?: unknown };
}

function provisioningStateMachine(assembly: CloudAssemblyTemplates): string {
  for (const { template } of assembly.stacks) {
    const resources = (template as { Resources?: Record<string, StateMachineResource> }).Resources ?? {};
    for (const resource of Object.values(resources)) {
      const name = resource.Properties?.StateMachineName;
      if (resource.Type === 'AWS::StepFunctions::StateMachine' && typeof name === 'string') {
        if (name.endsWith('-provisioning')) return name;
      }
    }
  }
  throw new Error('The templates have no provisioning state machine with a StateMachineName');
}

export function platformIam(assembly: CloudAssemblyTemplates, names: LocalResourceNames): PlatformIam {
  const scope = { accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION };
  const functions = functionPoliciesOf(assembly, {
    resolvePhysical: localPhysicalNames(scope, names),
    fallbackPhysical: generatedPhysicalNames(scope),
  });
  const roles = rolesOf(assembly, {
    resolvePhysical: localPhysicalNames(scope, names),
    fallbackPhysical: generatedPhysicalNames(scope),
  });
  const tenantAccess = roles.filter((role) => role.role.tags[ROLE_TAG] === TENANT_ACCESS_ROLE);
  if (tenantAccess.length > 1) {
    throw new Error(
      `${tenantAccess.length} roles are tagged ${ROLE_TAG}=${TENANT_ACCESS_ROLE}; one is expected`,
    );
  }
  const authorizer = createTemplateAuthorizer(functions, { roles });
  const byEntry = new Map(functions.map((fn) => [fn.entry, fn]));
  const arn = arnsIn(scope);
  return {
    authorizer,
    functions,
    roles,
    tenantAccessRoleArn: tenantAccess[0]?.role.arn,
    stateMachineArn: arn.stateMachine(provisioningStateMachine(assembly)),
    telemetryDeadLetterQueueArn: arn.sqsQueue(names.telemetryDeadLetterQueue),
    eventSourceMappings: eventSourceMappingsOf(assembly, functions),
    credentialsFor: (entry) =>
      entry !== undefined && byEntry.has(entry) ? authorizer.credentialsFor(entry) : undefined,
    environmentKeysOf: (entry) => (entry === undefined ? undefined : byEntry.get(entry)?.environmentKeys),
  };
}
