import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { AURORA_ENGINE_VERSION } from '#infra/stacks/stateful-stack';
import { recordTables } from '#shared/records/tables';

interface Resource {
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}

function only(template: Template, type: string): Resource {
  const resources = Object.values(template.findResources(type)) as Resource[];
  expect(resources, type).toHaveLength(1);
  return resources[0] as Resource;
}

describe('StatefulStack', () => {
  let dev: Template;
  let prod: Template;

  beforeAll(() => {
    // Arrange: the stateful stack has no functions, so nothing needs bundling
    dev = Template.fromStack(
      buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false }).stateful,
    );
    prod = Template.fromStack(
      buildApp({ stage: 'prod', bundle: false, cloudFormationValidation: false }).stateful,
    );
  });

  it('runs Aurora Serverless v2 PostgreSQL 17 with the Data API, encryption, IAM auth and logs', () => {
    const cluster = only(dev, 'AWS::RDS::DBCluster');
    expect(cluster.Properties).toMatchObject({
      Engine: 'aurora-postgresql',
      EngineVersion: AURORA_ENGINE_VERSION.auroraPostgresFullVersion,
      EnableHttpEndpoint: true,
      StorageEncrypted: true,
      EnableIAMDatabaseAuthentication: true,
      ManageMasterUserPassword: true,
      EnableCloudwatchLogsExports: ['postgresql'],
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 4 },
    });
    expect(AURORA_ENGINE_VERSION.auroraPostgresMajorVersion).toBe('17');
    expect(cluster.Properties.MasterUserPassword).toBeUndefined();
    dev.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceClass: 'db.serverless',
      PubliclyAccessible: false,
    });
  });

  it('protects the cluster outside dev: deletion protection, snapshot on delete, 30 days of backups', () => {
    const prodCluster = only(prod, 'AWS::RDS::DBCluster');
    expect(prodCluster.Properties).toMatchObject({ DeletionProtection: true, BackupRetentionPeriod: 30 });
    expect(prodCluster.DeletionPolicy).toBe('Snapshot');
    expect(prodCluster.Properties.ServerlessV2ScalingConfiguration).toMatchObject({ MinCapacity: 0.5 });

    const devCluster = only(dev, 'AWS::RDS::DBCluster');
    expect(devCluster.Properties).toMatchObject({ DeletionProtection: false, BackupRetentionPeriod: 7 });
    expect(devCluster.DeletionPolicy).toBe('Delete');
  });

  it('names the database log group as RDS does; dev deletes it, other stages keep it unless their first create rolls back', () => {
    // RDS writes the cluster's exported logs to /aws/rds/cluster/<cluster identifier>/postgresql and
    // leaves the group when the cluster goes; log group names are unique per account and region,
    // so a retained group blocks the next stack that creates it.
    const logGroupOf = (template: Template): Resource => {
      const groups = (Object.values(template.findResources('AWS::Logs::LogGroup')) as Resource[]).filter(
        (group) => String(group.Properties.LogGroupName).startsWith('/aws/rds/cluster/'),
      );
      expect(groups).toHaveLength(1);
      return groups[0] as Resource;
    };
    for (const [template, stage] of [
      [dev, 'dev'],
      [prod, 'prod'],
    ] as const) {
      expect(only(template, 'AWS::RDS::DBCluster').Properties.DBClusterIdentifier).toBe(`tenantry-${stage}`);
      // A literal name, not a token: what CloudFormation's automatic import needs to adopt the group.
      expect(logGroupOf(template).Properties.LogGroupName).toBe(
        `/aws/rds/cluster/tenantry-${stage}/postgresql`,
      );
    }
    // dev: deleted with the stack (after the cluster, which depends on it), so `cdk destroy` and a
    // new `cdk deploy` leave and meet nothing.
    expect(logGroupOf(dev)).toMatchObject({ DeletionPolicy: 'Delete', Properties: { RetentionInDays: 30 } });
    // prod: a year of database logs outlives a deleted stack; a first create that rolls back
    // deletes the group it made, so retrying the deployment does not find the name taken.
    expect(logGroupOf(prod)).toMatchObject({
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: { RetentionInDays: 365 },
    });
  });

  it('empties the dev buckets when the stack is destroyed, and keeps the prod ones with their objects', () => {
    const devBuckets = Object.entries(dev.findResources('AWS::S3::Bucket')) as [string, Resource][];
    // Access logs, finance exports, audit archive.
    expect(devBuckets).toHaveLength(3);
    const emptied = (Object.values(dev.findResources('Custom::S3AutoDeleteObjects')) as Resource[]).map(
      (resource) => resource.Properties.BucketName,
    );
    expect(emptied).toHaveLength(devBuckets.length);
    for (const [id, bucket] of devBuckets) {
      expect(bucket.DeletionPolicy).toBe('Delete');
      expect(emptied).toContainEqual({ Ref: id });
    }

    const prodBuckets = Object.values(prod.findResources('AWS::S3::Bucket')) as Resource[];
    expect(prodBuckets).toHaveLength(3);
    for (const bucket of prodBuckets) expect(bucket.DeletionPolicy).toBe('Retain');
    expect(prod.findResources('Custom::S3AutoDeleteObjects')).toEqual({});
    expect(prod.findResources('AWS::Lambda::Function')).toEqual({});
  });

  it('keeps the database in isolated subnets of a VPC without NAT, with flow logs', () => {
    expect(dev.findResources('AWS::EC2::NatGateway')).toEqual({});
    expect(dev.findResources('AWS::EC2::InternetGateway')).toEqual({});
    dev.resourceCountIs('AWS::EC2::FlowLog', 1);
    dev.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
  });

  it('creates the audit, usage and limits tables on demand with PITR and server-side encryption', () => {
    for (const template of [dev, prod]) {
      const tables = Object.values(template.findResources('AWS::DynamoDB::Table')) as Resource[];
      expect(tables).toHaveLength(3);
      for (const table of tables) {
        expect(table.Properties).toMatchObject({
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        });
      }
      const withTtl = tables.filter((table) => table.Properties.TimeToLiveSpecification);
      // Audit records expire after their retention; in the usage table only the metric samples'
      // per-event ledger entries carry `expiresAt` (rollups and raw usage are kept); a tenant's
      // month of the limits table expires three months after the month.
      expect(withTtl.map((table) => table.Properties.TimeToLiveSpecification)).toEqual([
        { AttributeName: 'expiresAt', Enabled: true },
        { AttributeName: 'expiresAt', Enabled: true },
        { AttributeName: 'expiresAt', Enabled: true },
      ]);
    }
    for (const table of Object.values(prod.findResources('AWS::DynamoDB::Table')) as Resource[]) {
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      expect(table.DeletionPolicy).toBe('Retain');
    }
  });

  it('builds each table from its description in shared/records/tables.ts', () => {
    const built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    const template = Template.fromStack(built.stateful);
    const stack = built.stateful;
    for (const [table, spec] of [
      [stack.auditTable, recordTables.audit],
      [stack.usageTable, recordTables.usage],
    ] as const) {
      const logicalId = stack.getLogicalId(table.node.defaultChild as CfnElement);
      const resource = template.toJSON().Resources[logicalId] as Resource;
      expect(resource.Properties).toMatchObject({
        KeySchema: [
          { AttributeName: spec.partitionKey, KeyType: 'HASH' },
          { AttributeName: spec.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: spec.partitionKey, AttributeType: 'S' },
          { AttributeName: spec.sortKey, AttributeType: 'S' },
        ],
      });
      expect(resource.Properties.GlobalSecondaryIndexes).toBeUndefined();
      expect(resource.Properties.TimeToLiveSpecification).toEqual(
        spec.ttlAttribute ? { AttributeName: spec.ttlAttribute, Enabled: true } : undefined,
      );
    }
  });

  it('names the bus after the stage and archives its events', () => {
    dev.hasResourceProperties('AWS::Events::EventBus', { Name: 'tenantry-dev' });
    prod.hasResourceProperties('AWS::Events::EventBus', { Name: 'tenantry-prod' });
    expect(only(dev, 'AWS::Events::Archive').Properties).toMatchObject({ RetentionDays: 365 });
  });

  it('locks the finance exports bucket down and logs access to it', () => {
    const buckets = Object.values(dev.findResources('AWS::S3::Bucket')) as Resource[];
    expect(buckets).toHaveLength(3);
    for (const bucket of buckets) {
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: { ServerSideEncryptionConfiguration: [expect.anything()] },
      });
    }
    const exports = buckets.find((bucket) =>
      JSON.stringify(bucket.Properties.LoggingConfiguration ?? {}).includes('finance-exports/'),
    );
    expect(exports?.Properties).toMatchObject({ VersioningConfiguration: { Status: 'Enabled' } });
    for (const policy of Object.values(dev.findResources('AWS::S3::BucketPolicy')) as Resource[]) {
      expect(JSON.stringify(policy.Properties)).toContain('"aws:SecureTransport":"false"');
    }
    dev.resourceCountIs('AWS::S3::BucketPolicy', 3);
  });

  it('expires deleted backups (noncurrent versions under backups/) and nothing else of the exports bucket', () => {
    const buckets = Object.values(dev.findResources('AWS::S3::Bucket')) as Resource[];
    const exports = buckets.find((bucket) =>
      JSON.stringify(bucket.Properties.LoggingConfiguration ?? {}).includes('finance-exports/'),
    );
    expect(exports?.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'ExpireDeletedBackups',
          Prefix: 'backups/',
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
          ExpiredObjectDeleteMarker: true,
          Status: 'Enabled',
        },
      ],
    });
  });

  it('has a backups KMS key with yearly rotation, kept outside dev', () => {
    dev.resourceCountIs('AWS::KMS::Key', 1);
    dev.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(Object.values(prod.findResources('AWS::KMS::Key'))[0]).toMatchObject({
      DeletionPolicy: 'Retain',
    });
  });
});
