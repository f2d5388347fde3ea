import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * What a stage decides about durability and cost, in one place. `dev` is disposable (torn down
 * with `cdk destroy`, kept cheap); every other stage keeps its data and logs.
 */
export interface StagePolicy {
  /** Log groups, tables, buckets, the user pool and the telemetry dead-letter queue. */
  readonly removalPolicy: RemovalPolicy;
  /** Every log group: functions, API access, workflow, VPC flow and database logs. */
  readonly logRetention: logs.RetentionDays;
  /** `LOG_LEVEL` of the functions unless one sets its own. */
  readonly logLevel: 'DEBUG' | 'INFO';
  /** Cluster, tables and user pool. */
  readonly deletionProtection: boolean;
  /** How long the S3 server access logs of the exports bucket are kept. */
  readonly accessLogsExpiration: Duration;
  readonly database: {
    /** Aurora Serverless v2 minimum ACUs; 0 lets an idle cluster pause. */
    readonly minCapacity: number;
    readonly maxCapacity: number;
    readonly backupRetention: Duration;
    /** The cluster keeps a final snapshot outside dev rather than being retained. */
    readonly removalPolicy: RemovalPolicy;
  };
}

export function stagePolicy(stage: string): StagePolicy {
  const disposable = stage === 'dev';
  return {
    removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    logRetention: disposable ? logs.RetentionDays.ONE_MONTH : logs.RetentionDays.ONE_YEAR,
    logLevel: disposable ? 'DEBUG' : 'INFO',
    deletionProtection: !disposable,
    accessLogsExpiration: Duration.days(disposable ? 30 : 365),
    database: {
      minCapacity: disposable ? 0 : 0.5,
      maxCapacity: 4,
      backupRetention: Duration.days(disposable ? 7 : 30),
      removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.SNAPSHOT,
    },
  };
}
