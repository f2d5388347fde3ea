import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, parsePlatformMfa, type TenantryApp } from '#infra/app';
import { effectiveNeeds, NEED_ACTIONS } from '#infra/constructs/needs';
import { synthesizeAssembly } from '#infra/local/iam/cloud-assembly';
import {
  type CloudAssemblyTemplates,
  type FunctionPolicies,
  functionPoliciesOf,
  statementsOf,
} from '#infra/local/iam/template-policies';
import { PLATFORM_MFA_ENV } from '#infra/stacks/identity-stack';
import { NEEDS } from '#shared/domain/needs';
import { subscriptions } from '#shared/events/subscriptions';
import { declaredNeeds } from '#shared/routes/function-needs';
import { routeList } from '#shared/routes/table';

/*
 * Issue 12: every function's grants come from what it declares (shared/routes/needs.ts). These
 * tests read the synthesized templates, the policies IAM enforces, and hold each function to its
 * declaration: nothing more, nothing less.
 */

/** Every function's own log group and X-Ray tracing (TenantryFunction), needed by none in particular. */
const BASELINE = new Set([
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
]);
/** The on-failure destination of an asynchronously invoked function (infra/constructs/failed-invocations.ts). */
const PLUMBING_SIDS = new Set(['SendFailedInvocationRecords']);
/**
 * What the SQS event source mapping of a subscription consumer polls with, on the consumer's role
 * (CDK's SqsEventSource grants it: infra/constructs/event-consumers.ts); the trigger's plumbing,
 * not a need, and only on the subscription's own queue (checked below).
 */
const EVENT_SOURCE_ACTIONS = new Set([
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
  'sqs:ReceiveMessage',
]);

/**
 * The statement a subscription consumer's event source adds: all consume actions, no others, on
 * the subscription's own queue (`Consumers<Name>Queue`) and nothing else.
 */
function isEventSourceStatement(
  fn: FunctionPolicies,
  statement: { readonly Action?: string | readonly string[]; readonly Resource?: unknown },
): boolean {
  const subscription = subscriptions.find((candidate) => candidate.handler === fn.entry);
  const actions = [statement.Action ?? []].flat();
  const resources = [statement.Resource ?? []].flat().map(String);
  return (
    subscription !== undefined &&
    actions.length === EVENT_SOURCE_ACTIONS.size &&
    actions.every((action) => EVENT_SOURCE_ACTIONS.has(action)) &&
    resources.length > 0 &&
    resources.every((resource) =>
      new RegExp(`/Consumers${subscription.name}Queue[0-9A-F]{8}\\.Arn>$`).test(resource),
    )
  );
}

function allowedActions(fn: FunctionPolicies): Set<string> {
  return new Set(
    statementsOf(fn)
      .filter(
        (statement) =>
          statement.Effect === 'Allow' &&
          !PLUMBING_SIDS.has(statement.Sid ?? '') &&
          !isEventSourceStatement(fn, statement),
      )
      .flatMap((statement) => [statement.Action ?? []].flat())
      .filter((action) => !BASELINE.has(action)),
  );
}

/** What the declaration implies, by the vocabulary's contract (NEED_ACTIONS). */
function impliedActions(entry: string): Set<string> {
  const needs = effectiveNeeds(declaredNeeds().get(entry) ?? []);
  return new Set(needs.flatMap((need) => NEED_ACTIONS[need]));
}

/** Actions a function's policy allows that its declaration does not imply. */
function beyondDeclaration(fn: FunctionPolicies): string[] {
  const implied = impliedActions(fn.entry);
  return [...allowedActions(fn)].filter((action) => !implied.has(action)).sort();
}

const secretResources = (fn: FunctionPolicies, action: string) =>
  statementsOf(fn)
    .filter((s) => s.Effect === 'Allow' && [s.Action ?? []].flat().includes(action))
    .flatMap((s) => [s.Resource ?? []].flat());

describe('grants derived from declared needs', () => {
  let assembly: CloudAssemblyTemplates;
  let functions: FunctionPolicies[];
  let built: TenantryApp;

  beforeAll(async () => {
    // Arrange: one in-process synthesis for the policies, one app for its constructs
    assembly = await synthesizeAssembly({ stage: 'dev' });
    functions = functionPoliciesOf(assembly);
    built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
  });

  it('declares needs for every function the app deploys, from the closed vocabulary', () => {
    const declared = declaredNeeds();
    for (const fn of functions) {
      expect(declared.has(fn.entry), fn.entry).toBe(true);
      for (const need of declared.get(fn.entry) ?? []) expect(NEEDS).toContain(need);
    }
    // Every route but the public ones keeps an audit trail.
    for (const route of routeList) {
      if (route.access.kind === 'public') expect(route.needs, route.operationId).toEqual([]);
      else expect(route.needs, route.operationId).toContain('telemetry');
    }
  });

  it("allows each function exactly the actions its declared needs imply (the table of function → actions equals the declarations')", () => {
    const table = Object.fromEntries(functions.map((fn) => [fn.entry, [...allowedActions(fn)].sort()]));
    const fromDeclarations = Object.fromEntries(
      functions.map((fn) => [fn.entry, [...impliedActions(fn.entry)].sort()]),
    );
    expect(table).toEqual(fromDeclarations);
    expect(Object.keys(table).length).toBeGreaterThan(routeList.length / 2);
  });

  it('fails a function whose policy allows an action its declaration does not imply', () => {
    // Arrange: the audit list (controlDb, auditRecords, telemetry) with one statement more
    const fn = functions.find((candidate) => candidate.entry === 'audit/list-audit') as FunctionPolicies;
    expect(beyondDeclaration(fn)).toEqual([]);
    const [first, ...rest] = fn.policies;
    if (!first) throw new Error('no policy');
    const widened: FunctionPolicies = {
      ...fn,
      policies: [
        {
          ...first,
          document: {
            ...first.document,
            Statement: [
              ...first.document.Statement,
              {
                Effect: 'Allow',
                Action: 'states:StartExecution',
                Resource: 'arn:aws:states:::stateMachine:x',
              },
            ],
          },
        },
        ...rest,
      ],
    };

    // Act / Assert
    expect(beyondDeclaration(widened)).toEqual(['states:StartExecution']);
  });

  it('gives public routes nothing but their logs', () => {
    for (const entry of ['platform/get-health', 'platform/get-openapi']) {
      const fn = functions.find((candidate) => candidate.entry === entry) as FunctionPolicies;
      expect([...allowedActions(fn)], entry).toEqual([]);
    }
  });

  it('lets no function role outside the secret-creating provisioning steps read a tenant secret', () => {
    const readers = functions
      .filter((fn) =>
        secretResources(fn, 'secretsmanager:GetSecretValue').some((r) => r.includes(':secret:tn/')),
      )
      .map((fn) => fn.entry)
      .sort();
    expect(readers).toEqual([
      // A move to a silo database makes the tenant's role there with the secret's password.
      'provisioning/copy-move-database',
      'provisioning/create-role-and-database',
      'provisioning/ensure-tenant-secret',
    ]);
  });

  it('lets only the migrator and the steps that create or drop roles and databases read the master secret', () => {
    const master = Stack.of(built.stateful).resolve(built.stateful.cluster.secret?.secretArn);
    const masterId = JSON.stringify(master).match(/Database\w+/)?.[0] ?? 'none';
    const readers = functions
      .filter((fn) => secretResources(fn, 'secretsmanager:GetSecretValue').some((r) => r.includes(masterId)))
      .map((fn) => fn.entry)
      .sort();
    expect(readers).toEqual([
      'ops/migrate-control-db',
      // A failed clone's databases and role are dropped as a failed provisioning's are.
      'provisioning/compensate-clone',
      // A move makes its copy, drops it when it fails, and drops the source when it is done.
      'provisioning/compensate-move',
      'provisioning/compensate-provisioning',
      'provisioning/copy-move-database',
      'provisioning/create-role-and-database',
      'provisioning/drop-database',
      'provisioning/finish-move',
      'provisioning/offboard-tenant',
    ]);
    // Their environment names it; no one else's does.
    for (const fn of functions) {
      expect(fn.environmentKeys.includes('CLUSTER_SECRET_ARN'), fn.entry).toBe(readers.includes(fn.entry));
    }
  });

  it('gives every controlDb function the control application secret and nothing of the master', () => {
    for (const fn of functions) {
      const declared = declaredNeeds().get(fn.entry) ?? [];
      expect(fn.environmentKeys.includes('CONTROL_SECRET_ARN'), fn.entry).toBe(
        declared.includes('controlDb'),
      );
      expect(fn.environmentKeys.includes('TENANT_ACCESS_ROLE_ARN'), fn.entry).toBe(
        declared.includes('tenantData'),
      );
    }
  });
});

describe('the tenant-access role and the control application secret', () => {
  let built: TenantryApp;
  let provisioning: Template;
  let stateful: Template;

  beforeAll(() => {
    built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    provisioning = Template.fromStack(built.provisioning);
    stateful = Template.fromStack(built.stateful);
  });

  const roleId = () =>
    Stack.of(built.provisioning).getLogicalId(built.provisioning.tenantAccessRole.node.defaultChild as never);

  it('trusts the account root for AssumeRole and TagSession, only with a TenantId session tag, and is tagged for the local IAM stand-in', () => {
    const role = provisioning.toJSON().Resources[roleId()] as {
      Properties: {
        AssumeRolePolicyDocument: unknown;
        Tags: { Key: string; Value: string }[];
        MaxSessionDuration?: number;
      };
    };
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Principal: {
            AWS: {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root'],
              ],
            },
          },
          Condition: { StringLike: { 'aws:RequestTag/TenantId': 't_*' } },
        },
      ],
    });
    expect(role.Properties.Tags).toContainEqual({ Key: 'tenantry:role', Value: 'tenant-access' });
    // The default hour: role chaining from a Lambda session caps it there anyway.
    expect(role.Properties.MaxSessionDuration).toBeUndefined();
  });

  it("reads only the secret whose tenant tag equals the session's, the pool's, and calls the Data API on the cluster", () => {
    const policies = Object.values(provisioning.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify((policy as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleId()),
    ) as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }[];
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(3);
    // Pooled tenants' statements are sent with the one pool secret (docs/isolation-modes.md).
    const pool = statements.find((s) => s.Sid === 'ReadPoolSecret');
    expect(pool?.Action).toBe('secretsmanager:GetSecretValue');
    expect(JSON.stringify(pool?.Resource)).toMatch(/ExportsOutputRefPoolAppSecret/);
    expect(pool?.Condition).toBeUndefined();
    const secret = statements.find((s) => s.Sid === 'ReadOwnTenantSecret');
    expect(secret?.Action).toBe('secretsmanager:GetSecretValue');
    expect(JSON.stringify(secret?.Resource)).toContain(':secret:tn/dev/*');
    expect(secret?.Condition).toEqual({
      StringEquals: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not JavaScript
        'secretsmanager:ResourceTag/tenantry:tenant-id': '${aws:PrincipalTag/TenantId}',
      },
    });
    const dataApi = statements.find((s) => s.Sid === 'TenantDataApi');
    expect(dataApi?.Action).toEqual([
      'rds-data:BatchExecuteStatement',
      'rds-data:BeginTransaction',
      'rds-data:CommitTransaction',
      'rds-data:ExecuteStatement',
      'rds-data:RollbackTransaction',
    ]);
    expect(JSON.stringify(dataApi?.Resource)).toMatch(
      /:cluster:",\{"Fn::ImportValue":"Tenantry-dev-Stateful:ExportsOutputRefDatabase/,
    );
  });

  it('keeps the application role secret in the stateful stack, named and owned as the contract says', () => {
    stateful.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'tenantry/dev/cluster/control-app',
      GenerateSecretString: {
        SecretStringTemplate: '{"username":"tenantry_app"}',
        GenerateStringKey: 'password',
      },
    });
    stateful.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'tenantry/dev/cluster/pool-app',
      GenerateSecretString: {
        SecretStringTemplate: '{"username":"tenantry_pool_app"}',
        GenerateStringKey: 'password',
      },
    });
    const [secret] = Object.values(stateful.findResources('AWS::SecretsManager::Secret')) as {
      DeletionPolicy: string;
      Properties: { KmsKeyId?: unknown };
    }[];
    // dev deletes data with the stack (StagePolicy); the account's aws/secretsmanager key, as the master's.
    expect(secret?.DeletionPolicy).toBe('Delete');
    expect(secret?.Properties.KmsKeyId).toBeUndefined();
    const prod = Template.fromStack(
      buildApp({ stage: 'prod', bundle: false, cloudFormationValidation: false }).stateful,
    );
    expect(
      (Object.values(prod.findResources('AWS::SecretsManager::Secret'))[0] as { DeletionPolicy: string })
        .DeletionPolicy,
    ).toBe('Retain');
  });
});

describe('MFA for the platform groups', () => {
  const triggerOf = (platformMfa?: 'required' | 'optional') => {
    const built = buildApp({
      stage: 'dev',
      bundle: false,
      cloudFormationValidation: false,
      ...(platformMfa ? { platformMfa } : {}),
    });
    const fn = built.identity.triggerFunctions.find((t) => t.node.id === 'PreTokenGeneration');
    if (!fn) throw new Error('no pre-token-generation trigger');
    const template = Template.fromStack(built.identity);
    const resolved = template.toJSON().Resources[
      Stack.of(fn).getLogicalId(fn.function.node.defaultChild as never)
    ] as { Properties: { Environment: { Variables: Record<string, string> } } };
    return { template, variables: resolved.Properties.Environment.Variables };
  };

  it('is off unless asked for, and on with platformMfa=required', () => {
    expect(triggerOf().variables[PLATFORM_MFA_ENV]).toBe('false');
    expect(triggerOf('required').variables[PLATFORM_MFA_ENV]).toBe('true');
    expect(parsePlatformMfa(undefined)).toBe('optional');
    expect(() => parsePlatformMfa('yes')).toThrow(/must be "required" or "optional"/);
  });

  it('lets the trigger ask the pool whether a user has a second factor (AdminGetUser on its own pool only)', () => {
    const { template } = triggerOf('required');
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (
          policy as {
            Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } };
          }
        ).Properties.PolicyDocument.Statement,
    );
    const cognito = statements.filter((s) => JSON.stringify(s.Action).includes('cognito-idp:'));
    expect(cognito).toEqual([
      {
        Effect: 'Allow',
        Action: 'cognito-idp:AdminGetUser',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^UserPool/), 'Arn'] },
      },
    ]);
    // The pool keeps optional TOTP MFA for everyone else.
    template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'OPTIONAL' });
  });
});
