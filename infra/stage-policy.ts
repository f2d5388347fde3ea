import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * What a stage decides about durability and cost, in one place. `dev` is disposable (torn down
 * with `cdk destroy`, kept cheap); every other stage keeps its data and logs.
 */
export interface StagePolicy {
  /**
   * Log groups, tables, buckets, the user pool and the telemetry dead-letter queue (the database's
   * log group has its own, `database.logsRemovalPolicy`).
   */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Empty the buckets when they are deleted (CDK's `autoDeleteObjects`), so `cdk destroy` can
   * delete a bucket that holds objects. Only with a DESTROY removal policy; it adds CDK's
   * auto-delete custom resource (one Lambda function per stack) to the stateful stack.
   */
  readonly autoDeleteObjects: boolean;
  /** Every log group: functions, API access, workflow, VPC flow and database logs. */
  readonly logRetention: logs.RetentionDays;
  /** `LOG_LEVEL` of the functions unless one sets its own. */
  readonly logLevel: 'DEBUG' | 'INFO';
  /** Cluster, tables and user pool. */
  readonly deletionProtection: boolean;
  /** How long the S3 server access logs (exports, archive and console buckets) and the console's CloudFront logs are kept. */
  readonly accessLogsExpiration: Duration;
  readonly database: {
    /** Aurora Serverless v2 minimum ACUs; 0 lets an idle cluster pause. */
    readonly minCapacity: number;
    readonly maxCapacity: number;
    readonly backupRetention: Duration;
    /** The cluster keeps a final snapshot outside dev rather than being retained. */
    readonly removalPolicy: RemovalPolicy;
    /**
     * The cluster's PostgreSQL log group. Its name is fixed by RDS
     * (`/aws/rds/cluster/<cluster identifier>/postgresql`), and log group names are unique per
     * account and region, so a retained group makes the next stack that creates it fail.
     * - dev: DESTROY. The cluster goes with the stack and its logs with it; the next deploy
     *   finds the name free.
     * - other stages: RETAIN_ON_UPDATE_OR_DELETE (`DeletionPolicy: RetainExceptOnCreate`). A
     *   year of database logs outlives a deleted stack, as the other retained data does; a first
     *   create that fails and rolls back deletes the group it made, so a retried first deploy
     *   does not find the name taken. Re-creating a deleted stack adopts the kept group with
     *   `cdk deploy --import-existing-resources` (docs/operations.md).
     */
    readonly logsRemovalPolicy: RemovalPolicy;
  };
}

export function stagePolicy(stage: string): StagePolicy {
  const disposable = stage === 'dev';
  return {
    removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    autoDeleteObjects: disposable,
    logRetention: disposable ? logs.RetentionDays.ONE_MONTH : logs.RetentionDays.ONE_YEAR,
    logLevel: disposable ? 'DEBUG' : 'INFO',
    deletionProtection: !disposable,
    accessLogsExpiration: Duration.days(disposable ? 30 : 365),
    database: {
      minCapacity: disposable ? 0 : 0.5,
      maxCapacity: 4,
      backupRetention: Duration.days(disposable ? 7 : 30),
      removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.SNAPSHOT,
      logsRemovalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    },
  };
}
