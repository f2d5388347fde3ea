import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DeadLetterQueue } from '#infra/constructs/dead-letter-queue';
import { sendFailedInvocationsToQueue } from '#infra/constructs/failed-invocations';
import {
  DEFAULT_TENANT_PLANS,
  grantNeeds,
  type NeedCluster,
  type NeedResources,
} from '#infra/constructs/needs';
import { TenantryFunction } from '#infra/constructs/tenantry-function';
import type { StagePolicy } from '#infra/stage-policy';
import { type BackupSchedule, DEFAULT_BACKUP_SCHEDULE } from '#shared/backups/schedule-settings';
import { JOB_TARGET_MAX_EVENT_AGE_SECONDS, JOB_TARGET_RETRY_ATTEMPTS } from '#shared/events/delivery-policy';
import { RECORD_JOB_HANDLERS, RECORD_JOB_NEEDS } from '#shared/records/scheduled-jobs';

/** Entries of the scheduled records jobs (shared/records/scheduled-jobs.ts). */
export { RECORD_JOB_HANDLERS };

export interface RecordJobsProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  readonly cluster: rds.DatabaseCluster;
  /** Every cluster tenant databases may be on (docs/clusters.md). @default - `cluster` alone */
  readonly clusters?: readonly NeedCluster[];
  /** The control database's application role secret (`controlDb`). */
  readonly controlAppSecret: secretsmanager.ISecret;
  /**
   * The tenant-access role (`tenantData`): the storage snapshot measures each database as its tenant.
   * @default - a job that declares tenantData fails to build
   */
  readonly tenantAccessRole?: iam.IRole;
  readonly eventBus: events.IEventBus;
  readonly usageTable: dynamodb.ITable;
  /** The plan catalogue (`TENANT_PLANS` JSON): the storage snapshot's thresholds read each tenant's plan. */
  readonly tenantPlans?: string;
  readonly exportsBucket: s3.IBucket;
  /**
   * The backups key (`backupStore`).
   * @default - a job that declares backupStore fails to build
   */
  readonly backupsKey?: kms.IKey;
  /**
   * Where the jobs' dead-letter alarm notifies.
   * @default - an alarm without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * When the storage snapshot runs (UTC).
   * @default every day at 23:30
   */
  readonly storageSnapshotSchedule?: scheduler.ScheduleExpression;
  /**
   * The provisioning workflow (`workflows`): the backup job starts each due tenant's backup.
   * @default - a job that declares workflows fails to build
   */
  readonly provisioningWorkflow?: sfn.IStateMachine;
  /**
   * Whether the daily backup job starts scheduled backups, and its hour (CDK context `backupSchedule`).
   * @default scheduled backups at 02:15 UTC
   */
  readonly backupSchedule?: BackupSchedule;
}

/**
 * The scheduled jobs of the records: the daily storage snapshot (`storage_bytes` and `databases`
 * usage per tenant) and the monthly close on the 1st, which writes the month that ended to the
 * exports bucket. Both are EventBridge Scheduler schedules whose undeliverable invocations are
 * retried and then dead-lettered into one queue, watched by an alarm; a job that runs and fails is
 * retried by Lambda and then recorded in its own failure queue, with an alarm of its own.
 */
export class RecordJobs extends Construct {
  readonly storageSnapshot: TenantryFunction;
  readonly monthClose: TenantryFunction;
  /** The daily backup job: scheduled backups, then retention (docs/backups.md). */
  readonly backupSchedule: TenantryFunction;
  /** Invocations the schedules could not deliver to Lambda. */
  readonly deadLetterQueue: DeadLetterQueue;
  /** Invocation records of job runs that failed after Lambda's retries, per job. */
  readonly failedInvocationsQueues: DeadLetterQueue[];
  readonly schedules: scheduler.Schedule[] = [];
  /** The role EventBridge Scheduler assumes to invoke the jobs. */
  readonly schedulerRole: iam.Role;

  constructor(scope: Construct, id: string, props: RecordJobsProps) {
    super(scope, id);
    const backupSchedule = props.backupSchedule ?? DEFAULT_BACKUP_SCHEDULE;
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue', {
      alarmDescription: `Tenantry ${props.stage}: a scheduled records job could not be invoked after the schedule's retries`,
      alarmTopic: props.alarmTopic,
      alarmPeriod: Duration.minutes(5),
    });

    this.storageSnapshot = new TenantryFunction(this, 'StorageSnapshot', {
      handler: RECORD_JOB_HANDLERS.storageSnapshot,
      stage: props.stage,
      policy: props.policy,
      serviceName: 'tenantry-jobs',
      timeout: Duration.minutes(5),
    });
    const resources: NeedResources = {
      stage: props.stage,
      cluster: props.cluster,
      ...(props.clusters ? { clusters: props.clusters } : {}),
      controlAppSecret: props.controlAppSecret,
      ...(props.tenantAccessRole ? { tenantAccessRole: props.tenantAccessRole } : {}),
      eventBus: props.eventBus,
      usageTable: props.usageTable,
      exportsBucket: props.exportsBucket,
      tenantPlans: props.tenantPlans ?? DEFAULT_TENANT_PLANS,
      ...(props.backupsKey ? { backupsKey: props.backupsKey } : {}),
    };
    grantNeeds(this.storageSnapshot, RECORD_JOB_NEEDS.storageSnapshot, resources);

    this.monthClose = new TenantryFunction(this, 'MonthClose', {
      handler: RECORD_JOB_HANDLERS.monthClose,
      stage: props.stage,
      policy: props.policy,
      serviceName: 'tenantry-jobs',
      // Reconciles every tenant's days from raw records before it writes the month.
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    grantNeeds(this.monthClose, RECORD_JOB_NEEDS.monthClose, resources);

    this.backupSchedule = new TenantryFunction(this, 'BackupSchedule', {
      handler: RECORD_JOB_HANDLERS.backupSchedule,
      stage: props.stage,
      policy: props.policy,
      serviceName: 'tenantry-jobs',
      // Pages through every tenant and every expired backup; Lambda's longest timeout.
      timeout: Duration.minutes(15),
    });
    grantNeeds(this.backupSchedule, RECORD_JOB_NEEDS.backupSchedule, {
      ...resources,
      ...(props.provisioningWorkflow ? { provisioningWorkflow: props.provisioningWorkflow } : {}),
    });

    this.failedInvocationsQueues = [
      sendFailedInvocationsToQueue(this, 'StorageSnapshotFailedInvocationsQueue', this.storageSnapshot, {
        alarmDescription: `Tenantry ${props.stage}: the storage snapshot failed after Lambda's retries`,
        alarmTopic: props.alarmTopic,
        alarmPeriod: Duration.minutes(5),
      }),
      sendFailedInvocationsToQueue(this, 'MonthCloseFailedInvocationsQueue', this.monthClose, {
        alarmDescription: `Tenantry ${props.stage}: the month close failed after Lambda's retries`,
        alarmTopic: props.alarmTopic,
        alarmPeriod: Duration.minutes(5),
      }),
      sendFailedInvocationsToQueue(this, 'BackupScheduleFailedInvocationsQueue', this.backupSchedule, {
        alarmDescription: `Tenantry ${props.stage}: the backup schedule or retention failed after Lambda's retries`,
        alarmTopic: props.alarmTopic,
        alarmPeriod: Duration.minutes(5),
      }),
    ];

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: `Tenantry records jobs schedules (${props.stage})`,
    });
    const target = (fn: TenantryFunction, input: Record<string, unknown> = {}) =>
      new schedulerTargets.LambdaInvoke(fn.function, {
        role: this.schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject(input),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: JOB_TARGET_RETRY_ATTEMPTS,
        maxEventAge: Duration.seconds(JOB_TARGET_MAX_EVENT_AGE_SECONDS),
      });
    this.schedules.push(
      new scheduler.Schedule(this, 'StorageSnapshotSchedule', {
        description: `Tenantry ${props.stage}: storage and database count of every tenant, as usage`,
        schedule:
          props.storageSnapshotSchedule ?? scheduler.ScheduleExpression.cron({ minute: '30', hour: '23' }),
        target: target(this.storageSnapshot),
      }),
      new scheduler.Schedule(this, 'MonthCloseSchedule', {
        description: `Tenantry ${props.stage}: close the month that ended and archive its usage export`,
        // 00:30 UTC on the 1st: the month ended half an hour ago, late deliveries have had time.
        schedule: scheduler.ScheduleExpression.cron({ minute: '30', hour: '0', day: '1' }),
        target: target(this.monthClose),
      }),
      new scheduler.Schedule(this, 'BackupScheduleSchedule', {
        description: `Tenantry ${props.stage}: each due tenant's daily backup, then expired backups deleted`,
        schedule: scheduler.ScheduleExpression.cron({ minute: '15', hour: String(backupSchedule.hourUtc) }),
        target: target(this.backupSchedule, { scheduledBackups: backupSchedule.scheduledBackups }),
      }),
    );
  }
}
