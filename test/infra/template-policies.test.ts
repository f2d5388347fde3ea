import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENTRY_TAG } from '#infra/constructs/function-tags';
import { accessDeniedMessage } from '#infra/local/iam/access';
import { synthesizeAssembly } from '#infra/local/iam/cloud-assembly';
import { createTemplateAuthorizer, type TemplateAuthorizer } from '#infra/local/iam/template-authorizer';
import {
  type CloudAssemblyTemplates,
  type FunctionPolicies,
  functionPoliciesOf,
  type PhysicalResolver,
  statementsOf,
} from '#infra/local/iam/template-policies';
import { secretNameFor } from '#shared/provisioning/names';
import { routeList } from '#shared/routes/table';

/*
 * The IAM stand-in's view of the real app: synthesized in-process (no bundling), every function
 * found with its role and policies, and those policies answering as the deployed ones would.
 */

interface LambdaResource {
  Type: string;
  // A Description may be an intrinsic (the dev stage's auto-delete function joins one).
  Properties: { Description?: unknown; Tags?: { Key: string; Value: string }[] };
}

const ACCOUNT = '000000000000';
const tableArn = (name: string) => `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${name}`;
const tenantSecret = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${secretNameFor('dev', 't_abcdefghijklmnopqrst')}-AbCdEf`;

/** What the local platform names itself: the record tables (CloudFormation would generate names). */
const localNames: PhysicalResolver = (ref) => {
  if (ref.type !== 'AWS::DynamoDB::Table') return undefined;
  const name = ref.logicalId.startsWith('AuditTable')
    ? 'tenantry-local-audit'
    : ref.logicalId.startsWith('UsageTable')
      ? 'tenantry-local-usage'
      : undefined;
  if (!name) return undefined;
  return ref.attribute === 'Arn' ? tableArn(name) : ref.attribute === undefined ? name : undefined;
};

describe('the synthesized app as the IAM stand-in reads it', () => {
  let assembly: CloudAssemblyTemplates;
  let functions: FunctionPolicies[];
  let authorizer: TemplateAuthorizer;

  beforeAll(async () => {
    // Arrange: one in-process synthesis for the file
    assembly = await synthesizeAssembly({ stage: 'dev' });
    functions = functionPoliciesOf(assembly, { resolvePhysical: localNames });
    authorizer = createTemplateAuthorizer(functions);
  });

  const lambdaFunctions = () =>
    assembly.stacks.flatMap(({ name, template }) =>
      Object.entries((template as { Resources: Record<string, LambdaResource> }).Resources)
        .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
        .map(([logicalId, resource]) => ({ stack: name, logicalId, properties: resource.Properties })),
    );

  it('tags every Tenantry function with its handler entry, the one its description names', () => {
    const tenantry = lambdaFunctions().filter(
      ({ properties }) =>
        typeof properties.Description === 'string' && properties.Description.startsWith('Tenantry '),
    );
    expect(tenantry.length).toBeGreaterThan(routeList.length);
    for (const { stack, logicalId, properties } of tenantry) {
      const tag = properties.Tags?.find((candidate) => candidate.Key === FUNCTION_ENTRY_TAG);
      expect(tag?.Value, `${stack}/${logicalId}`).toBe(
        String(properties.Description).slice('Tenantry '.length),
      );
    }
  });

  it('finds every route handler with its role and at least one statement', () => {
    const entries = new Map(functions.map((fn) => [fn.entry, fn]));
    for (const handler of new Set(routeList.map((route) => route.handler))) {
      const fn = entries.get(handler);
      expect(fn, handler).toBeDefined();
      expect(fn?.role.logicalId, handler).toMatch(/Role/);
      expect(statementsOf(fn as FunctionPolicies).length, handler).toBeGreaterThan(0);
    }
  });

  it("finds every other function too: all but CDK's own (the provider framework, the dev buckets' auto-delete, the console's bucket deployment), each with a role and statements", () => {
    const all = lambdaFunctions();
    const framework = all.filter(
      ({ logicalId, properties }) =>
        (typeof properties.Description === 'string' &&
          properties.Description.startsWith('AWS CDK resource provider framework')) ||
        // Its role has only AWS's managed basic-execution policy, which grants nothing here.
        logicalId.startsWith('CustomS3AutoDeleteObjectsCustomResourceProvider') ||
        // Runs only during a deploy, as CloudFormation's custom resource: no local counterpart.
        logicalId.startsWith('CustomCDKBucketDeployment'),
    );
    // The provider framework, the auto-delete providers of the Stateful and Console stacks, and
    // the console's bucket deployment.
    expect(framework).toHaveLength(4);
    expect(functions.map((fn) => `${fn.stack}/${fn.functionLogicalId}`).sort()).toEqual(
      all
        .filter((fn) => !framework.includes(fn))
        .map((fn) => `${fn.stack}/${fn.logicalId}`)
        .sort(),
    );
    for (const fn of functions) {
      expect(fn.role.arn, fn.entry).toBe(`arn:aws:iam::${ACCOUNT}:role/${fn.role.name}`);
      expect(statementsOf(fn).length, fn.entry).toBeGreaterThan(0);
    }
    expect(functions.map((fn) => fn.entry)).toEqual(
      expect.arrayContaining([
        'identity/pre-token-generation',
        'identity/post-confirmation',
        'ops/migrate-control-db',
      ]),
    );
  });

  it("allows the audit list its grant (reading the audit table) and nothing beyond it, with AWS's denial", async () => {
    const { accessKeyId, sessionArn } = authorizer.credentialsFor('audit/list-audit');
    const fn = functions.find((candidate) => candidate.entry === 'audit/list-audit') as FunctionPolicies;
    expect(sessionArn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/${fn.role.name}/${fn.functionName}`);

    // Act
    const query = await authorizer.authorize({
      accessKeyId,
      action: 'dynamodb:Query',
      resource: tableArn('tenantry-local-audit'),
      context: {},
    });
    const put = {
      accessKeyId,
      action: 'dynamodb:PutItem',
      resource: tableArn('tenantry-local-audit'),
      context: {},
    };
    const write = await authorizer.authorize(put);

    // Assert
    expect(query).toEqual({ allowed: true });
    expect(write).toEqual({ allowed: false, principalArn: sessionArn, explicit: false });
    if (write.allowed) throw new Error('unreachable');
    expect(accessDeniedMessage(put, write)).toBe(
      `User: ${sessionArn} is not authorized to perform: dynamodb:PutItem on resource: ${tableArn('tenantry-local-audit')} because no identity-based policy allows the dynamodb:PutItem action`,
    );
  });

  it('lets no route read a tenant secret with its own role, and the secret-creating step only a tagged one', async () => {
    const read = (entry: string, context: Record<string, string>) =>
      authorizer.authorize({
        accessKeyId: authorizer.credentialsFor(entry).accessKeyId,
        action: 'secretsmanager:GetSecretValue',
        resource: tenantSecret,
        context,
      });
    const tagged = { 'secretsmanager:ResourceTag/tenantry:tenant-id': 't_1' };
    // A table route reaches tenant data through the tenant-access role only (issue 12).
    expect(await read('tables/list-tables', tagged)).toMatchObject({ allowed: false, explicit: false });
    expect(await read('me/get-me', tagged)).toMatchObject({ allowed: false, explicit: false });
    // The step that makes the secret may read it back, only when it carries a tenant tag.
    expect(await read('provisioning/ensure-tenant-secret', tagged)).toEqual({ allowed: true });
    expect(await read('provisioning/ensure-tenant-secret', {})).toMatchObject({ allowed: false });
  });

  it('denies a grant whose resource nothing resolved, and lists it as unresolved', async () => {
    // Arrange: no local names at all, so the record tables' ARNs stay placeholders
    const bare = functionPoliciesOf(assembly);
    const fn = bare.find((candidate) => candidate.entry === 'audit/list-audit') as FunctionPolicies;
    const { accessKeyId } = createTemplateAuthorizer(bare).credentialsFor(fn.entry);

    // Act
    const decision = await createTemplateAuthorizer(bare).authorize({
      accessKeyId,
      action: 'dynamodb:Query',
      resource: tableArn('tenantry-local-audit'),
      context: {},
    });

    // Assert
    expect(decision).toMatchObject({ allowed: false });
    expect(fn.unresolved).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^<unresolved Tenantry-dev-Stateful\/AuditTable\w+\.Arn>$/),
      ]),
    );
    // Resources the template names resolve without help: the bus, the cluster, the workflow.
    expect(JSON.stringify(statementsOf(fn))).toContain(
      `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/tenantry-dev`,
    );
    expect(JSON.stringify(statementsOf(fn))).toContain(
      `arn:aws:rds:us-east-1:${ACCOUNT}:cluster:tenantry-dev`,
    );
  });

  it('treats keys it did not hand out (a person with administrator credentials) as allowed', async () => {
    const anything = { action: 'secretsmanager:GetSecretValue', resource: tenantSecret, context: {} };
    expect(await authorizer.authorize({ ...anything, accessKeyId: 'AKIAIOSFODNN7EXAMPLE' })).toEqual({
      allowed: true,
    });
    expect(await authorizer.authorize({ ...anything, accessKeyId: undefined })).toEqual({ allowed: true });
  });
});
