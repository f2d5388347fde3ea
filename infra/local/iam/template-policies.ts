/**
 * For each Tenantry function of a synthesized cloud assembly: its handler entry (the
 * `tenantry:function` tag), its role, and every identity-based policy attached to that role, with
 * all intrinsics resolved for the local account and region. This is what the IAM stand-in
 * evaluates; a function's permissions locally are exactly its role's in the templates.
 *
 * A role's policies are its inline `Policies`, every `AWS::IAM::Policy` and
 * `AWS::IAM::ManagedPolicy` whose `Roles` name it, and the customer managed policies of the same
 * assembly that its `ManagedPolicyArns` list.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-policy.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-managedpolicy.html
 */
import { FUNCTION_ENTRY_TAG } from '#infra/constructs/function-tags';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './access.ts';
import {
  IntrinsicResolver,
  type PhysicalRef,
  type PhysicalResolver,
  type TemplateResource,
  type TemplateStack,
  UnsupportedIntrinsicError,
} from './cfn-intrinsics.ts';
import { arnsIn, firstAnswer, templateNamedResources } from './physical-names.ts';
import {
  type PolicyDocument,
  type PolicyStatement,
  parsePolicyDocument,
  parseTrustPolicyDocument,
  type TrustPolicyDocument,
} from './policy-document.ts';

export type { PhysicalRef, PhysicalResolver, TemplateStack } from './cfn-intrinsics.ts';

export interface CloudAssemblyTemplates {
  readonly stacks: readonly TemplateStack[];
}

export interface FunctionRole {
  readonly stack: string;
  readonly logicalId: string;
  /** The role's name: its `RoleName`, the resolver's answer, or else its logical id. */
  readonly name: string;
  /** `arn:aws:iam::<account>:role/<path><name>`. */
  readonly arn: string;
  /** The role's tags: the `aws:PrincipalTag/*` values of its sessions. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface AttachedPolicy {
  /** `PolicyName`, `ManagedPolicyName`, or the resource's logical id. */
  readonly name: string;
  /** `<stack>/<logicalId>` of the resource that holds it. */
  readonly source: string;
  readonly document: PolicyDocument;
}

export interface FunctionPolicies {
  /** The handler entry, e.g. `me/get-me`. */
  readonly entry: string;
  readonly stack: string;
  readonly functionLogicalId: string;
  /** The function's name (the session name of its role): `FunctionName`, the resolver's, or the logical id. */
  readonly functionName: string;
  readonly role: FunctionRole;
  readonly policies: readonly AttachedPolicy[];
  /**
   * Placeholders in this function's policies for references nothing resolved (see
   * `unresolvedName`), and managed policies from outside the assembly (not evaluated): each is
   * a grant that denies locally.
   */
  readonly unresolved: readonly string[];
  /** The names of the variables the template sets in the function's environment. */
  readonly environmentKeys: readonly string[];
}

/** A role of the assembly, whoever uses it: what `sts:AssumeRole` and its sessions are judged by. */
export interface RolePolicies {
  readonly role: FunctionRole;
  /** Its identity-based policies: what its sessions may do. */
  readonly policies: readonly AttachedPolicy[];
  /** Its `AssumeRolePolicyDocument`, resolved: who may assume it. */
  readonly trustPolicy: TrustPolicyDocument;
  /**
   * `MaxSessionDuration` in seconds: the longest session `AssumeRole` may ask for.
   * @default 3600 ("If you do not specify a value for this setting, the default maximum of one
   * hour is applied", https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html)
   */
  readonly maxSessionDuration: number;
  /** As `FunctionPolicies.unresolved`, for this role's policies. */
  readonly unresolved: readonly string[];
}

export interface TemplatePoliciesOptions {
  /** @default LOCAL_ACCOUNT_ID */
  readonly accountId?: string;
  /** @default LOCAL_REGION */
  readonly region?: string;
  /**
   * The local platform's physical names (tables, user pools, queues it names itself), asked
   * first; resources named in the template come next.
   * @default - only resources named in their template resolve
   */
  readonly resolvePhysical?: PhysicalResolver;
  /**
   * Asked last, for resources neither the platform nor the template names (e.g. CloudFormation's
   * generated names).
   * @default - they stay unresolved
   */
  readonly fallbackPhysical?: PhysicalResolver;
}

interface Located {
  readonly stack: string;
  readonly logicalId: string;
  readonly resource: TemplateResource;
}

/** Every statement of a function's policies, in order. */
export function statementsOf(fn: FunctionPolicies): readonly PolicyStatement[] {
  return fn.policies.flatMap((policy) => policy.document.Statement);
}

/** The Tenantry functions of the assembly (those tagged with their entry) and their policies. */
export function functionPoliciesOf(
  assembly: CloudAssemblyTemplates,
  options: TemplatePoliciesOptions = {},
): FunctionPolicies[] {
  const { resolver, located, roles, attached } = readRoles(assembly, options);
  const functions: FunctionPolicies[] = [];
  for (const fn of located('AWS::Lambda::Function')) {
    const properties = fn.resource.Properties ?? {};
    const entry = tagsOf(resolver, fn.stack, properties.Tags)[FUNCTION_ENTRY_TAG];
    if (entry === undefined) continue;
    const roleArn = resolver.resolveString(fn.stack, properties.Role, `${fn.logicalId}.Role`);
    const role = roles.find((candidate) => candidate.arn === roleArn);
    if (!role)
      throw new UnsupportedIntrinsicError(`${fn.stack}/${fn.logicalId}: role ${roleArn} is in no stack`);
    const policies = attached.get(role) ?? { policies: [], outside: [] };
    const ref = { stack: fn.stack, logicalId: fn.logicalId, type: fn.resource.Type };
    const functionName =
      options.resolvePhysical?.(ref) ??
      (typeof properties.FunctionName === 'string' ? properties.FunctionName : fn.logicalId);
    functions.push({
      entry,
      stack: fn.stack,
      functionLogicalId: fn.logicalId,
      functionName,
      role: templateRole(role),
      policies: policies.policies,
      unresolved: unresolvedIn(policies),
      environmentKeys: Object.keys(
        ((properties.Environment ?? {}) as { Variables?: Record<string, unknown> }).Variables ?? {},
      ).sort(),
    });
  }
  return functions;
}

/**
 * Every `AWS::IAM::Role` of the assembly with its identity-based policies, tags, trust policy and
 * maximum session duration, resolved as `functionPoliciesOf` resolves a function's role.
 */
export function rolesOf(
  assembly: CloudAssemblyTemplates,
  options: TemplatePoliciesOptions = {},
): RolePolicies[] {
  const { resolver, roles, attached } = readRoles(assembly, options);
  return roles.map((role) => {
    const { stack, logicalId, resource } = role.located;
    const policies = attached.get(role) ?? { policies: [], outside: [] };
    const properties = resource.Properties ?? {};
    const maxSessionDuration = resolver.resolve(stack, properties.MaxSessionDuration ?? 3600);
    return {
      role: templateRole(role),
      policies: policies.policies,
      trustPolicy: parseTrustPolicyDocument(
        resolver.resolve(stack, properties.AssumeRolePolicyDocument ?? { Statement: [] }),
        `${stack}/${logicalId} (AssumeRolePolicyDocument)`,
      ),
      maxSessionDuration: Number(maxSessionDuration),
      unresolved: unresolvedIn(policies),
    };
  });
}

/** The roles of the assembly, named and tagged, with their attached policies. */
function readRoles(assembly: CloudAssemblyTemplates, options: TemplatePoliciesOptions) {
  const scope = { accountId: options.accountId ?? LOCAL_ACCOUNT_ID, region: options.region ?? LOCAL_REGION };
  const byStack = new Map(assembly.stacks.map((stack) => [stack.name, stack.template]));
  const resourceOf = (stack: string, logicalId: string) =>
    (byStack.get(stack) as { Resources?: Record<string, TemplateResource> } | undefined)?.Resources?.[
      logicalId
    ];
  const resolver = new IntrinsicResolver(assembly.stacks, {
    ...scope,
    resolvePhysical: firstAnswer(
      options.resolvePhysical,
      templateNamedResources(resourceOf, scope),
      (ref) => unnamedRole(ref, scope),
      options.fallbackPhysical,
    ),
  });
  const located = (type: string): Located[] =>
    assembly.stacks.flatMap((stack) =>
      Object.entries(resolver.resources(stack.name))
        .filter(([, resource]) => resource.Type === type)
        .map(([logicalId, resource]) => ({ stack: stack.name, logicalId, resource })),
    );
  const roles = located('AWS::IAM::Role').map((role) => ({ located: role, ...describeRole(resolver, role) }));
  return { resolver, located, roles, attached: attachedPolicies(resolver, located, roles) };
}

function templateRole(role: RoleEntry): FunctionRole {
  return {
    stack: role.located.stack,
    logicalId: role.located.logicalId,
    name: role.name,
    arn: role.arn,
    tags: role.tags,
  };
}

function unresolvedIn(policies: {
  policies: readonly AttachedPolicy[];
  outside: readonly string[];
}): string[] {
  const placeholders = JSON.stringify(policies.policies).match(/<unresolved [^>]*>/g) ?? [];
  return [...new Set([...placeholders, ...policies.outside])];
}

/** A role the template leaves unnamed is named by its logical id locally. */
function unnamedRole(ref: PhysicalRef, scope: { accountId: string; region: string }): string | undefined {
  if (ref.type !== 'AWS::IAM::Role') return undefined;
  if (ref.attribute === undefined) return ref.logicalId;
  return ref.attribute === 'Arn' ? arnsIn(scope).role(ref.logicalId) : undefined;
}

interface DescribedRole {
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
}

function describeRole(resolver: IntrinsicResolver, role: Located): DescribedRole {
  const { stack, logicalId } = role;
  return {
    name: resolver.resolveString(stack, { Ref: logicalId }, `${logicalId} name`),
    arn: resolver.resolveString(stack, { 'Fn::GetAtt': [logicalId, 'Arn'] }, `${logicalId} ARN`),
    tags: tagsOf(resolver, stack, role.resource.Properties?.Tags),
  };
}

/** `Tags: [{ Key, Value }]` as a record. */
function tagsOf(resolver: IntrinsicResolver, stack: string, tags: unknown): Record<string, string> {
  const resolved = resolver.resolve(stack, tags ?? []);
  const record: Record<string, string> = {};
  for (const tag of Array.isArray(resolved) ? resolved : []) {
    const { Key, Value } = (tag ?? {}) as { Key?: unknown; Value?: unknown };
    if (typeof Key === 'string') record[Key] = String(Value ?? '');
  }
  return record;
}

type RoleEntry = DescribedRole & { readonly located: Located };

/** Each role's attached policies, and the managed policy ARNs it lists from outside the assembly. */
function attachedPolicies(
  resolver: IntrinsicResolver,
  located: (type: string) => Located[],
  roles: readonly RoleEntry[],
): Map<RoleEntry, { policies: AttachedPolicy[]; outside: string[] }> {
  const byRole = new Map(
    roles.map((role) => [role, { policies: [] as AttachedPolicy[], outside: [] as string[] }]),
  );
  const document = (stack: string, logicalId: string, name: string, raw: unknown): AttachedPolicy => ({
    name,
    source: `${stack}/${logicalId}`,
    document: parsePolicyDocument(resolver.resolve(stack, raw), `${stack}/${logicalId} (${name})`),
  });
  const managedByArn = new Map<string, AttachedPolicy>();

  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const { stack, logicalId, resource } of located(type)) {
      const properties = resource.Properties ?? {};
      const named = properties.PolicyName ?? properties.ManagedPolicyName;
      const policy = document(
        stack,
        logicalId,
        typeof named === 'string' ? named : logicalId,
        properties.PolicyDocument,
      );
      if (type === 'AWS::IAM::ManagedPolicy') {
        managedByArn.set(resolver.resolveString(stack, { Ref: logicalId }, `${logicalId} ARN`), policy);
      }
      const names = resolver.resolve(stack, properties.Roles ?? []);
      for (const roleName of Array.isArray(names) ? names : []) {
        const role = roles.find((candidate) => candidate.name === roleName);
        if (role) byRole.get(role)?.policies.push(policy);
      }
    }
  }

  for (const role of roles) {
    const { stack, logicalId, resource } = role.located;
    const entry = byRole.get(role);
    const inline = resolver.resolve(stack, resource.Properties?.Policies ?? []);
    for (const [index, item] of (Array.isArray(inline) ? inline : []).entries()) {
      const { PolicyName, PolicyDocument } = (item ?? {}) as {
        PolicyName?: unknown;
        PolicyDocument?: unknown;
      };
      const name = typeof PolicyName === 'string' ? PolicyName : `Policies[${index}]`;
      entry?.policies.push(document(stack, logicalId, name, PolicyDocument));
    }
    const arns = resolver.resolve(stack, resource.Properties?.ManagedPolicyArns ?? []);
    for (const arn of Array.isArray(arns) ? arns : []) {
      const managed = managedByArn.get(String(arn));
      if (managed && !entry?.policies.includes(managed)) entry?.policies.push(managed);
      else if (!managed)
        entry?.outside.push(`managed policy ${String(arn)} (not in the assembly: not evaluated)`);
    }
  }
  return byRole;
}
