import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { StagePolicy } from '#infra/stage-policy';
import { type ClusterSetting, DEFAULT_CLUSTER_CAPACITY, PRIMARY_CLUSTER_ID } from '#shared/domain/clusters';
import { POOL_APP_USER } from '#shared/provisioning/names';
import { type RecordTableSpec, recordTables } from '#shared/records/tables';

/** The control database's application login role (migrations create it; the API uses it). */
export const CONTROL_APP_USERNAME = 'tenantry_app';

/** Name of the application role's secret: beside the cluster's, under the stage. */
export const controlAppSecretName = (stage: string) => `tenantry/${stage}/cluster/control-app`;
/** Name of the pool login role's secret (one for every cluster: the role has it on each). */
export const poolAppSecretName = (stage: string) => `tenantry/${stage}/cluster/pool-app`;

/** Newest Aurora PostgreSQL 17 minor that aws-cdk-lib 2.276 knows. */
export const AURORA_ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_17_9;

export interface StatefulStackProps extends StackProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  /**
   * Aurora Serverless v2 minimum capacity in ACUs. 0 lets the cluster pause when idle (the first
   * Data API call then waits for it to resume).
   * @default - the stage policy's (0 on `dev`, 0.5 elsewhere)
   */
  readonly databaseMinCapacity?: number;
  /**
   * Aurora Serverless v2 maximum capacity in ACUs.
   * @default - the stage policy's (4)
   */
  readonly databaseMaxCapacity?: number;
  /**
   * The database clusters (infra/clusters-context.ts); the first is `primary`, which holds the
   * control database.
   * @default - one cluster, `primary`
   */
  readonly clusters?: readonly ClusterSetting[];
  /**
   * How long the event bus archive keeps events for replay.
   * @default Duration.days(365)
   */
  readonly eventArchiveRetention?: Duration;
}

/**
 * Everything that holds data: network and Aurora cluster, DynamoDB tables, the event bus and its
 * archive, the finance exports bucket. Compute stacks receive these by props, so they can be
 * redeployed or destroyed without touching data.
 */
/** One of the deployment's clusters, with its registry settings. */
export interface TenantCluster extends ClusterSetting {
  readonly cluster: rds.DatabaseCluster;
}

export class StatefulStack extends Stack {
  readonly vpc: ec2.Vpc;
  /** The control database's cluster: `primary`, the first of `clusters`. */
  readonly cluster: rds.DatabaseCluster;
  /** Every cluster tenant databases may be placed on, `primary` first (docs/clusters.md). */
  readonly clusters: readonly TenantCluster[];
  /**
   * The password of `tenantry_app`, the control database's application role: what every function
   * that declares `controlDb` signs in with, instead of the master.
   */
  readonly controlAppSecret: secretsmanager.ISecret;
  /** The password of `tenantry_pool_app`, the pool login role of every cluster (pooled tenants). */
  readonly poolAppSecret: secretsmanager.ISecret;
  readonly auditTable: dynamodb.Table;
  readonly usageTable: dynamodb.Table;
  /** Each tenant's request rate and API calls of the month (issue 15): one update per request. */
  readonly limitsTable: dynamodb.Table;
  readonly eventBus: events.EventBus;
  readonly exportsBucket: s3.Bucket;
  /**
   * The audit archive for analysts (docs/audit-archive.md): every audit and usage record as gzip
   * NDJSON under `records/tenant=<tenant>/date=<day>/`, written by the archive's Firehose stream.
   */
  readonly auditArchiveBucket: s3.Bucket;
  /**
   * The tenants' backups (`backups/<tenantId>/…` in the exports bucket) are encrypted with this
   * key, named on every PUT (S3BackupStore), so that reading them takes kms:Decrypt on it as well
   * as s3:GetObject: only functions that declare `backupStore` have both.
   */
  readonly backupsKey: kms.Key;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { policy } = props;
    const dataRemovalPolicy = policy.removalPolicy;

    // Only isolated subnets: the database is reached through the Data API, no function runs in
    // the VPC, so there is nothing that needs a NAT gateway or a route to the internet.
    this.vpc = new ec2.Vpc(this, 'Network', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
    this.vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogGroup', {
          retention: policy.logRetention,
          removalPolicy: dataRemovalPolicy,
        }),
      ),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    const settings = props.clusters ?? [
      { id: PRIMARY_CLUSTER_ID, name: PRIMARY_CLUSTER_ID, capacity: DEFAULT_CLUSTER_CAPACITY },
    ];
    this.clusters = settings.map((setting) => ({
      ...setting,
      cluster: this.databaseCluster(setting.id, props),
    }));
    const [primary] = this.clusters;
    if (primary?.id !== PRIMARY_CLUSTER_ID) throw new Error('The first cluster must be "primary"');
    this.cluster = primary.cluster;

    // Generated like the master's (RDS's excluded characters: no quote can break the migrator's
    // ALTER ROLE … PASSWORD '…') and encrypted like it, with the account's aws/secretsmanager key:
    // the master secret names no KMS key of its own (manageMasterUserPassword without a key).
    // Not attached to the cluster: the Data API needs only the user name and password.
    const controlAppSecret = new rds.DatabaseSecret(this, 'ControlAppSecret', {
      username: CONTROL_APP_USERNAME,
      secretName: controlAppSecretName(props.stage),
    });
    controlAppSecret.applyRemovalPolicy(dataRemovalPolicy);
    this.controlAppSecret = controlAppSecret;

    // The pooled tier's login role (docs/isolation-modes.md), made like the control one's: the
    // migrator creates the role on every cluster with this password, and a pooled tenant's
    // statements are sent with it (read by tenant-scoped sessions of the tenant-access role).
    const poolAppSecret = new rds.DatabaseSecret(this, 'PoolAppSecret', {
      username: POOL_APP_USER,
      secretName: poolAppSecretName(props.stage),
    });
    poolAppSecret.applyRemovalPolicy(dataRemovalPolicy);
    this.poolAppSecret = poolAppSecret;

    // Keys and TTL come from the description the local platform creates its tables from too.
    const recordTable = (constructId: string, spec: RecordTableSpec) =>
      new dynamodb.Table(this, constructId, {
        partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: spec.sortKey, type: dynamodb.AttributeType.STRING },
        timeToLiveAttribute: spec.ttlAttribute,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        deletionProtection: policy.deletionProtection,
        removalPolicy: dataRemovalPolicy,
      });
    this.auditTable = recordTable('AuditTable', recordTables.audit);
    this.usageTable = recordTable('UsageTable', recordTables.usage);
    this.limitsTable = recordTable('LimitsTable', recordTables.limits);

    this.eventBus = new events.EventBus(this, 'EventBus', { eventBusName: `tenantry-${props.stage}` });
    this.eventBus.archive('EventArchive', {
      description: `Every Tenantry ${props.stage} event, for replay`,
      eventPattern: { account: [this.account] },
      retention: props.eventArchiveRetention ?? Duration.days(365),
    });

    const accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: policy.accessLogsExpiration }],
      removalPolicy: dataRemovalPolicy,
      // dev: emptied before deletion, or `cdk destroy` fails on a non-empty bucket. CDK's handler
      // first denies s3:PutObject in the bucket policy, so late access-log deliveries cannot
      // refill it, then deletes every object version and delete marker.
      // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_s3.mixins.BucketAutoDeleteObjects.html
      autoDeleteObjects: policy.autoDeleteObjects,
    });
    this.exportsBucket = new s3.Bucket(this, 'FinanceExportsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogsBucket,
      serverAccessLogsPrefix: 'finance-exports/',
      removalPolicy: dataRemovalPolicy,
      // Versioned: the auto-delete handler removes every version, not only the current objects.
      autoDeleteObjects: policy.autoDeleteObjects,
      lifecycleRules: [
        {
          // A deleted backup object (a failed backup's, an expired one's) only becomes a
          // noncurrent version in a versioned bucket; this rule makes S3 delete those permanently
          // a day later, so that deleting a backup really removes its data
          // (https://docs.aws.amazon.com/goto/WebAPI/s3-2006-03-01/NoncurrentVersionExpiration),
          // and removes the delete markers left with no version behind them. Finance exports
          // (usage-exports/) are never deleted and keep their versions.
          id: 'ExpireDeletedBackups',
          prefix: 'backups/',
          noncurrentVersionExpiration: Duration.days(1),
          expiredObjectDeleteMarker: true,
        },
      ],
    });

    this.auditArchiveBucket = new s3.Bucket(this, 'AuditArchiveBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // A deleted or overwritten archive object stays recoverable for 30 days.
      versioned: true,
      serverAccessLogsBucket: accessLogsBucket,
      serverAccessLogsPrefix: 'audit-archive/',
      removalPolicy: dataRemovalPolicy,
      autoDeleteObjects: policy.autoDeleteObjects,
      lifecycleRules: [
        {
          // Analysts query recent months; older ones move to Glacier Instant Retrieval, at a lower
          // storage price. Athena skips only Glacier Flexible Retrieval and Deep Archive objects
          // (https://docs.aws.amazon.com/athena/latest/ug/querying-glacier.html), not these.
          id: 'ArchiveOlderRecords',
          prefix: 'records/',
          transitions: [
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
          ],
        },
        { id: 'ExpireDeliveryErrors', prefix: 'errors/', expiration: Duration.days(90) },
        {
          id: 'CleanUp',
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(30),
          expiredObjectDeleteMarker: true,
        },
      ],
    });

    this.backupsKey = new kms.Key(this, 'BackupsKey', {
      description: `Tenantry (${props.stage}): tenant backups in the exports bucket (backups/)`,
      // Yearly rotation of the key material; old material stays usable for decrypting.
      // https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
      enableKeyRotation: true,
      removalPolicy: dataRemovalPolicy,
    });
  }

  /**
   * One Aurora Serverless v2 cluster with the Data API and a master secret of its own (managed and
   * rotated by RDS).
   */
  private databaseCluster(clusterId: string, props: StatefulStackProps): rds.DatabaseCluster {
    const { policy } = props;
    // `primary` keeps the construct id and identifier of the one cluster there used to be, so that
    // an existing deployment keeps its cluster (a new logical id would replace it).
    const primary = clusterId === PRIMARY_CLUSTER_ID;
    const clusterIdentifier = primary ? `tenantry-${props.stage}` : `tenantry-${props.stage}-${clusterId}`;
    const constructId = primary ? 'Database' : `Database-${clusterId}`;
    // Created here rather than through `cloudwatchLogsRetention`, which would add CDK's
    // log-retention custom resource (a Lambda function with an AWS managed policy) to the stack.
    // The name is the one RDS writes to and a literal (automatic import needs a static name);
    // why dev deletes it and other stages keep it: StagePolicy.database.logsRemovalPolicy.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/import-resources-automatically.html
    const postgresqlLogs = new logs.LogGroup(this, `${constructId}Logs`, {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: policy.logRetention,
      removalPolicy: policy.database.logsRemovalPolicy,
    });
    const cluster = new rds.DatabaseCluster(this, constructId, {
      clusterIdentifier,
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: AURORA_ENGINE_VERSION }),
      writer: rds.ClusterInstance.serverlessV2('writer', { publiclyAccessible: false }),
      serverlessV2MinCapacity: props.databaseMinCapacity ?? policy.database.minCapacity,
      serverlessV2MaxCapacity: props.databaseMaxCapacity ?? policy.database.maxCapacity,
      // Every cluster in the one VPC, with the same policy: one network, one set of rules.
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      // Only `primary` holds the control database; the others start with just `postgres`.
      ...(primary ? { defaultDatabaseName: 'control' } : {}),
      enableDataApi: true,
      storageEncrypted: true,
      iamAuthentication: true,
      // RDS creates the master secret and rotates it itself (every 7 days), with no rotation
      // Lambda in the VPC and no Secrets Manager endpoint to pay for.
      manageMasterUserPassword: true,
      credentials: rds.Credentials.fromUsername('tenantry_admin'),
      backup: { retention: policy.database.backupRetention, preferredWindow: '03:00-04:00' },
      preferredMaintenanceWindow: 'Sun:04:30-Sun:05:30',
      deletionProtection: policy.deletionProtection,
      removalPolicy: policy.database.removalPolicy,
      cloudwatchLogsExports: ['postgresql'],
      copyTagsToSnapshot: true,
    });
    cluster.node.addDependency(postgresqlLogs);
    return cluster;
  }
}
