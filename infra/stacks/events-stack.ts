import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { AuditArchive } from '#infra/constructs/audit-archive';
import { DeadLetterQueue } from '#infra/constructs/dead-letter-queue';
import { EventConsumers } from '#infra/constructs/event-consumers';
import type { NeedCluster } from '#infra/constructs/needs';
import { RecordJobs } from '#infra/constructs/record-jobs';
import type { StagePolicy } from '#infra/stage-policy';
import type { BackupSchedule } from '#shared/backups/schedule-settings';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '#shared/composition/record-services';
import { catalog } from '#shared/events/events';
import { type EventSubscription, subscriptions } from '#shared/events/subscriptions';

export interface EventsStackProps extends StackProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  readonly eventBus: events.IEventBus;
  readonly auditTable: dynamodb.ITable;
  readonly usageTable: dynamodb.ITable;
  /** The plan catalogue (`TENANT_PLANS` JSON; infra/plans-context.ts) of the storage snapshot job. */
  readonly tenantPlans?: string;
  /**
   * Consumers to wire.
   * @default subscriptions, the shared list
   */
  readonly subscriptions?: readonly EventSubscription[];
  /**
   * How long audit records are kept (DynamoDB TTL on `expiresAt`).
   * @default DEFAULT_AUDIT_RETENTION_DAYS (400)
   */
  readonly auditRetentionDays?: number;
  /**
   * The control database's cluster, its application secret and the finance exports bucket: with all three, the scheduled
   * records jobs (storage snapshot, monthly close) are added.
   * @default - no scheduled jobs
   */
  readonly cluster?: rds.DatabaseCluster;
  /** Every cluster tenant databases may be on (docs/clusters.md). @default - `cluster` alone */
  readonly clusters?: readonly NeedCluster[];
  readonly controlAppSecret?: secretsmanager.ISecret;
  /** The role the storage snapshot measures each database with, as its tenant. */
  readonly tenantAccessRole?: iam.IRole;
  readonly exportsBucket?: s3.IBucket;
  /**
   * The audit archive's bucket: with it, the archive's rules, Firehose stream and Glue tables are
   * added (docs/audit-archive.md).
   * @default - no audit archive
   */
  readonly auditArchiveBucket?: s3.IBucket;
  /** The backups key (`backupStore`): scheduled jobs that keep or delete backups. */
  readonly backupsKey?: kms.IKey;
  /** The provisioning workflow (`workflows`): the backup job starts each due tenant's backup. */
  readonly provisioningWorkflow?: sfn.IStateMachine;
  /** The daily backup job's switch and hour (CDK context `backupSchedule`). @default DEFAULT_BACKUP_SCHEDULE */
  readonly backupSchedule?: BackupSchedule;
}

/**
 * The event consumers (compute side of the bus): rules, their Lambda targets, dead-letter queues
 * and alarms, plus the topic operators subscribe to for those alarms, and the route functions'
 * telemetry dead-letter queue.
 */
export class EventsStack extends Stack {
  readonly alarmTopic: sns.Topic;
  readonly consumers: EventConsumers;
  readonly jobs?: RecordJobs;
  readonly auditArchive?: AuditArchive;
  /**
   * Audit, usage and metric records the route handlers could not publish to the bus (after one
   * retry): kept 14 days for a redrive, with an alarm on the first one. Here rather than beside
   * the API because every API functions stack sends to it and the Api stack imports from those
   * stacks: in the Api stack it would make a cycle.
   */
  readonly telemetryDeadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: EventsStackProps) {
    super(scope, id, props);
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `tenantry-${props.stage}-alarms`,
      displayName: `Tenantry ${props.stage} alarms`,
      enforceSSL: true,
    });
    this.telemetryDeadLetterQueue = new DeadLetterQueue(this, 'TelemetryDeadLetterQueue', {
      alarmDescription: `Tenantry ${props.stage}: audit, usage or metric records could not be published`,
      alarmTopic: this.alarmTopic,
      removalPolicy: props.policy.removalPolicy,
    });
    this.consumers = new EventConsumers(this, 'Consumers', {
      stage: props.stage,
      policy: props.policy,
      eventBus: props.eventBus,
      catalog,
      subscriptions: props.subscriptions ?? subscriptions,
      auditTable: props.auditTable,
      usageTable: props.usageTable,
      alarmTopic: this.alarmTopic,
      environment: { AUDIT_RETENTION_DAYS: String(props.auditRetentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS) },
    });
    if (props.auditArchiveBucket) {
      this.auditArchive = new AuditArchive(this, 'AuditArchive', {
        stage: props.stage,
        policy: props.policy,
        eventBus: props.eventBus,
        bucket: props.auditArchiveBucket,
        alarmTopic: this.alarmTopic,
      });
    }
    if (props.cluster && props.controlAppSecret && props.exportsBucket) {
      this.jobs = new RecordJobs(this, 'RecordJobs', {
        stage: props.stage,
        policy: props.policy,
        cluster: props.cluster,
        controlAppSecret: props.controlAppSecret,
        ...(props.tenantAccessRole ? { tenantAccessRole: props.tenantAccessRole } : {}),
        eventBus: props.eventBus,
        usageTable: props.usageTable,
        exportsBucket: props.exportsBucket,
        ...(props.backupsKey ? { backupsKey: props.backupsKey } : {}),
        ...(props.provisioningWorkflow ? { provisioningWorkflow: props.provisioningWorkflow } : {}),
        ...(props.backupSchedule ? { backupSchedule: props.backupSchedule } : {}),
        ...(props.tenantPlans ? { tenantPlans: props.tenantPlans } : {}),
        ...(props.clusters ? { clusters: props.clusters } : {}),
        alarmTopic: this.alarmTopic,
      });
    }
  }
}
