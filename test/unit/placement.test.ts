import { describe, expect, it } from 'vitest';
import { clustersFromContext, InvalidClustersError } from '#infra/clusters-context';
import type { ClusterWithLoad } from '#shared/control/cluster-registry';
import { clusterPoolFrom, clusterRegistryPropertySchema } from '#shared/domain/clusters';
import { headroomPlacement, PlacementRefused, POOL_DATABASE_LOAD } from '#shared/tenancy/placement';

const cluster = (id: string, fields: Partial<ClusterWithLoad> = {}): ClusterWithLoad => ({
  id,
  name: id,
  state: 'open',
  capacity: 100,
  tenants: 0,
  databases: 0,
  poolDatabases: 0,
  createdAt: '',
  updatedAt: '',
  ...fields,
});
const choose = (clusters: ClusterWithLoad[], pinnedClusterId: string | null = null) =>
  headroomPlacement.choose({ clusters, pinnedClusterId });

describe('the default placement policy (most headroom)', () => {
  it('chooses the open cluster with the most headroom: capacity minus load', () => {
    // Arrange: c2 holds fewer databases, but primary is much larger
    const clusters = [
      cluster('primary', { capacity: 500, databases: 300 }),
      cluster('c2', { capacity: 100, databases: 10 }),
    ];

    // Act / Assert: 200 left against 90
    expect(choose(clusters)).toBe('primary');
    expect(choose([clusters[0] as ClusterWithLoad, cluster('c2', { capacity: 400, databases: 150 })])).toBe(
      'c2',
    );
  });

  it('counts a pooled database as a fraction of a silo one', () => {
    const clusters = [
      cluster('primary', { databases: 10, poolDatabases: 0 }),
      cluster('c2', { databases: 5, poolDatabases: 40 }),
    ];

    // primary: 100 − 10 = 90 left; c2: 100 − 5 − 40 × 0.1 = 91 (a tenth each)
    expect(POOL_DATABASE_LOAD).toBe(0.1);
    expect(choose(clusters)).toBe('c2');
    // …but 100 pooled databases weigh 10: 85 left, less than primary's 90
    expect(
      choose([clusters[0] as ClusterWithLoad, cluster('c2', { databases: 5, poolDatabases: 100 })]),
    ).toBe('primary');
  });

  it('gives ties to the cluster listed first, so that placement is deterministic', () => {
    expect(choose([cluster('primary'), cluster('c2'), cluster('c3')])).toBe('primary');
  });

  it('gives draining and closed clusters nothing new, however much room they have', () => {
    const clusters = [
      cluster('primary', { capacity: 10, databases: 9 }),
      cluster('c2', { state: 'draining', capacity: 1000 }),
      cluster('c3', { state: 'closed', capacity: 1000 }),
    ];

    expect(choose(clusters)).toBe('primary');
  });

  it('refuses when no cluster is open, or every open one is at its capacity', () => {
    expect(() =>
      choose([cluster('primary', { state: 'draining' }), cluster('c2', { state: 'closed' })]),
    ).toThrow(new PlacementRefused('No cluster is open for new databases'));
    expect(() => choose([cluster('primary', { capacity: 3, databases: 3 })])).toThrow(
      new PlacementRefused('Every open cluster is at its capacity'),
    );
    expect(() => choose([])).toThrow(PlacementRefused);
  });

  it("puts a pinned tenant's database on its pin, open or draining, even with less headroom or none", () => {
    const clusters = [
      cluster('primary', { capacity: 1000 }),
      cluster('c2', { state: 'draining', databases: 100 }),
    ];

    expect(choose(clusters, 'c2')).toBe('c2');
    expect(choose([cluster('primary'), cluster('c2')], 'c2')).toBe('c2');
  });

  it('refuses a pin to a closed or unregistered cluster rather than placing elsewhere', () => {
    const clusters = [cluster('primary'), cluster('c2', { state: 'closed' })];

    expect(() => choose(clusters, 'c2')).toThrow(
      new PlacementRefused('The tenant is pinned to cluster c2, which is closed'),
    );
    expect(() => choose(clusters, 'c9')).toThrow(PlacementRefused);
  });
});

describe('the clusters configuration (CDK context "clusters", CLUSTERS, the migrator property)', () => {
  it('makes a count into primary, c2, c3… with the default capacity', () => {
    expect(clustersFromContext(undefined)).toEqual([{ id: 'primary', name: 'primary', capacity: 500 }]);
    expect(clustersFromContext('3').map((c) => c.id)).toEqual(['primary', 'c2', 'c3']);
    expect(clustersFromContext(2)).toHaveLength(2);
  });

  it('takes a JSON list with names and capacities, from cdk.json or the command line', () => {
    const list = [
      { id: 'primary', name: 'Main', capacity: 800 },
      { id: 'eu2', capacity: 50 },
    ];

    expect(clustersFromContext(list)).toEqual([
      { id: 'primary', name: 'Main', capacity: 800 },
      { id: 'eu2', name: 'eu2', capacity: 50 },
    ]);
    expect(clustersFromContext(JSON.stringify(list))).toEqual(clustersFromContext(list));
  });

  it.each([
    ['0', '(root)'],
    ['9', '(root)'],
    ['two', 'give a count'],
    [[], '(root)'],
    [[{ id: 'c2' }], 'the first cluster must be "primary"'],
    [[{ id: 'primary' }, { id: 'primary' }], 'each cluster id once'],
    [[{ id: 'primary' }, { id: 'Bad-Id' }], '1.id'],
    [[{ id: 'primary', capacity: -1 }], '0.capacity'],
    [[{ id: 'primary', region: 'x' }], '0'],
    [2.5, '(root)'],
  ])('stops on %j with a message naming the problem', (value, named) => {
    expect(() => clustersFromContext(value)).toThrow(InvalidClustersError);
    expect(() => clustersFromContext(value)).toThrow(named);
  });

  it('reads CLUSTERS and CLUSTER_SECRET_ARNS, or the one CLUSTER_ARN as primary, with the one pool secret', () => {
    const arn = (id: string) => `arn:aws:rds:us-east-1:123456789012:cluster:tenantry-dev-${id}`;
    const secret = (id: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-${id}`;
    const pool = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pool';

    expect(
      clusterPoolFrom({
        CLUSTER_ARN: arn('primary'),
        CLUSTERS: { primary: arn('primary'), c2: arn('c2') },
        CLUSTER_SECRET_ARNS: { primary: secret('primary'), c2: secret('c2') },
        POOL_SECRET_ARN: pool,
      }),
    ).toEqual([
      { id: 'primary', resourceArn: arn('primary'), masterSecretArn: secret('primary'), poolSecretArn: pool },
      { id: 'c2', resourceArn: arn('c2'), masterSecretArn: secret('c2'), poolSecretArn: pool },
    ]);
    expect(
      clusterPoolFrom({ CLUSTER_ARN: arn('primary'), CLUSTERS: { primary: arn('primary'), c2: arn('c2') } }),
    ).toEqual([
      { id: 'primary', resourceArn: arn('primary') },
      { id: 'c2', resourceArn: arn('c2') },
    ]);
    expect(clusterPoolFrom({ CLUSTER_ARN: arn('primary'), CLUSTER_SECRET_ARN: secret('primary') })).toEqual([
      { id: 'primary', resourceArn: arn('primary'), masterSecretArn: secret('primary') },
    ]);
  });

  it("validates the migrator's clusters property as the context, and defaults to primary alone", () => {
    expect(clusterRegistryPropertySchema.parse(undefined)).toEqual([
      { id: 'primary', name: 'primary', capacity: 500 },
    ]);
    expect(clusterRegistryPropertySchema.safeParse('not json').success).toBe(false);
    expect(clusterRegistryPropertySchema.safeParse('[{"id":"c2"}]').success).toBe(false);
  });
});
