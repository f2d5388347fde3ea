import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type TenantryApp } from '#infra/app';
import { InvalidClustersError } from '#infra/clusters-context';
import { MAX_TENANT_PLANS_BYTES } from '#infra/plans-context';
import { MAX_CLUSTERS } from '#shared/domain/clusters';
import { DEFAULT_PLANS } from '#shared/domain/plans';

/**
 * Several clusters from the CDK context (issue 18; docs/clusters.md): the one cluster an existing
 * deployment has keeps its logical id, each other one is a cluster of its own, and the functions
 * that reach tenant data are told of and allowed on all of them, within Lambda's 4 KB environment.
 */

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const resourcesOf = (stack: Stack) => Template.fromStack(stack).toJSON().Resources as Resources;
const ofType = (resources: Resources, type: string) =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);
const build = (clusters?: unknown, plans?: TenantryApp extends never ? never : object) =>
  buildApp({
    stage: 'dev',
    bundle: false,
    cloudFormationValidation: false,
    ...(clusters === undefined ? {} : { clusters }),
    ...(plans === undefined ? {} : { plans: { plans } }),
  });

/** Every Lambda function of the app with its environment variables. */
function functionEnvironments(app: TenantryApp) {
  return app.stacks.flatMap((stack) =>
    ofType(resourcesOf(stack), 'AWS::Lambda::Function').map(([logicalId, fn]) => ({
      name: `${stack.stackName}/${logicalId}`,
      variables: ((fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {}) as Record<string, unknown>,
    })),
  );
}

/**
 * A variable's value as deployed, with every reference replaced by the longest it can resolve to:
 * the pseudo parameters by their longest value, a cluster's identifier (`tenantry-<stage>-<id>`)
 * by 33 characters (an 11-character stage, a 12-character id), any other reference (an ARN, a
 * name, an imported value) by 128 characters, more than any of ours (a managed secret's ARN is
 * about 110).
 */
function worstCase(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as Record<string, unknown>;
  const imported = object['Fn::ImportValue'];
  if (typeof imported === 'string' && /ExportsOutputRefDatabase[A-Za-z0-9]*$/.test(imported))
    return 'x'.repeat(33);
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(worstCase).join(separator);
  }
  if ('Ref' in object) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws-iso-b',
      'AWS::Region': 'ap-southeast-5',
      'AWS::AccountId': '123456789012',
      'AWS::URLSuffix': 'amazonaws.com.cn',
    };
    return pseudo[object.Ref as string] ?? 'x'.repeat(128);
  }
  return 'x'.repeat(128);
}

/** The bytes Lambda counts: every name and value. */
const environmentBytes = (variables: Record<string, unknown>) =>
  Object.entries(variables).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(worstCase(value)),
    0,
  );

describe('the clusters of the CDK app', () => {
  let one: TenantryApp;
  let two: TenantryApp;

  beforeAll(() => {
    one = build();
    two = build(2);
  });

  it('keeps the one cluster of an existing deployment: same logical ids, identifier and control database', () => {
    for (const app of [one, two]) {
      const resources = resourcesOf(app.stateful);
      // The logical ids of the cluster, its writer and its log group before there were several:
      // a new logical id would make CloudFormation replace the cluster, and its data with it.
      expect(resources.DatabaseB269D8BB).toMatchObject({
        Type: 'AWS::RDS::DBCluster',
        Properties: { DBClusterIdentifier: 'tenantry-dev', DatabaseName: 'control' },
      });
      expect(resources.Databasewriter2462CC03?.Type).toBe('AWS::RDS::DBInstance');
      expect(resources.DatabaseLogs561AB38E?.Type).toBe('AWS::Logs::LogGroup');
    }
    expect(ofType(resourcesOf(one.stateful), 'AWS::RDS::DBCluster')).toHaveLength(1);
  });

  it('makes each further cluster with the Data API, a master secret of its own, in the same VPC', () => {
    const clusters = ofType(resourcesOf(two.stateful), 'AWS::RDS::DBCluster').map(([, c]) => c.Properties);

    expect(clusters.map((c) => c.DBClusterIdentifier)).toEqual(['tenantry-dev', 'tenantry-dev-c2']);
    for (const cluster of clusters) {
      expect(cluster).toMatchObject({
        EnableHttpEndpoint: true,
        ManageMasterUserPassword: true,
        StorageEncrypted: true,
        EnableIAMDatabaseAuthentication: true,
      });
    }
    // No control database on c2: it holds tenant databases only.
    expect(clusters[1]?.DatabaseName).toBeUndefined();
    const subnetGroups = ofType(resourcesOf(two.stateful), 'AWS::RDS::DBSubnetGroup').map(
      ([, group]) => group.Properties.SubnetIds,
    );
    expect(subnetGroups).toHaveLength(2);
    expect(subnetGroups[1]).toEqual(subnetGroups[0]);
  });

  it('tells the tenant-data and cluster-admin functions of every cluster; master secrets to cluster admins only', () => {
    const functions = functionEnvironments(two);
    const tenantData = functions.filter((fn) => 'TENANT_ACCESS_ROLE_ARN' in fn.variables);
    const admins = functions.filter((fn) => 'CLUSTER_SECRET_ARN' in fn.variables);

    expect(tenantData.length).toBeGreaterThan(5);
    expect(admins.length).toBeGreaterThan(3);
    for (const fn of [...tenantData, ...admins]) {
      expect(JSON.parse(worstCase(fn.variables.CLUSTERS)), fn.name).toEqual({
        primary: expect.any(String),
        c2: expect.any(String),
      });
    }
    for (const fn of admins) {
      expect(Object.keys(JSON.parse(worstCase(fn.variables.CLUSTER_SECRET_ARNS))), fn.name).toEqual([
        'primary',
        'c2',
      ]);
    }
    expect(functions.filter((fn) => 'CLUSTER_SECRET_ARNS' in fn.variables)).toHaveLength(admins.length);
  });

  it("allows the tenant-access role and the cluster admins on every cluster, and each master secret's read", () => {
    const policies = two.stacks.flatMap((stack) =>
      ofType(resourcesOf(stack), 'AWS::IAM::Policy').map(([id, policy]) => ({
        id,
        policy: JSON.stringify(policy),
      })),
    );
    const access = policies.find((p) => p.id.startsWith('TenantAccessRoleDefaultPolicy'));
    const migrator = policies.find((p) => p.id.startsWith('ControlMigrationsRoleDefaultPolicy'));

    // Each cluster's ARN is its own export of the Stateful stack.
    const clusterExports = (policy: string | undefined) =>
      new Set(policy?.match(/Databasec2[0-9A-F]{8}|DatabaseB269D8BB/g) ?? []);
    expect(clusterExports(access?.policy)).toEqual(
      new Set(['DatabaseB269D8BB', expect.stringMatching(/^Databasec2/)]),
    );
    expect(clusterExports(migrator?.policy).size).toBe(2);
    expect(migrator?.policy).toMatch(/MasterUserSecret/);
  });

  it('gives the control migrator the configured clusters, so that a change runs it and syncs the registry', () => {
    const [, migrations] =
      ofType(resourcesOf(two.provisioning), 'Custom::TenantryControlMigrations')[0] ?? [];

    expect(JSON.parse(String(migrations?.Properties.clusters))).toEqual([
      { id: 'primary', name: 'primary', capacity: 500 },
      { id: 'c2', name: 'c2', capacity: 500 },
    ]);
  });

  it.each([
    ['0'],
    ['nine'],
    [[{ id: 'c2' }]],
    [[{ id: 'primary' }, { id: 'primary' }]],
    [String(MAX_CLUSTERS + 1)],
  ])('stops the synthesis on clusters=%j, saying why', (value) => {
    expect(() => build(value)).toThrow(InvalidClustersError);
  });

  it(`keeps every function's environment under Lambda's 4 KB with ${MAX_CLUSTERS} clusters and the largest plan catalogue`, () => {
    // Arrange: a catalogue just under its own cap, each plan every limit
    const plans: Record<string, object> = {};
    for (let i = 0; JSON.stringify({ plans }).length < MAX_TENANT_PLANS_BYTES - 260; i++) {
      plans[`plan${i}`] = { ...DEFAULT_PLANS.standard };
    }
    const app = build(MAX_CLUSTERS, plans);

    // Act
    const sizes = functionEnvironments(app).map((fn) => ({
      name: fn.name,
      bytes: environmentBytes(fn.variables),
    }));

    // Assert: "4 KB, for all environment variables associated with the function, in aggregate"
    // (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
    const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    expect(largest.bytes, largest.name).toBeLessThan(4096);
    expect(largest.bytes).toBeGreaterThan(2048);
  });
});
