import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from '#infra/constructs/dead-letter-queue';
import type { StagePolicy } from '#infra/stage-policy';
import {
  CONSUMER_TARGET_MAX_EVENT_AGE_SECONDS,
  CONSUMER_TARGET_RETRY_ATTEMPTS,
} from '#shared/events/delivery-policy';
import {
  ARCHIVE_COLUMNS,
  ARCHIVE_DATA_PREFIX,
  ARCHIVE_ERROR_PREFIX,
  ARCHIVE_ERRORS_PREFIX,
  ARCHIVE_PARTITION_KEYS,
  ARCHIVE_RECORDS_PREFIX,
  type ArchiveRule,
  archiveRules,
  detailPath,
  PARTITION_JQ_QUERY,
} from '#shared/records/audit-archive';

/**
 * Buffering of the stream. With dynamic partitioning Firehose needs at least 64 MiB and 60 s
 * (CloudFormation refuses less: "BufferingHints.SizeInMBs must be at least 64 when Dynamic
 * Partitioning is enabled", as aws-cdk-lib's validation quotes it,
 * https://github.com/aws/aws-cdk/blob/main/packages/aws-cdk-lib/aws-kinesisfirehose/lib/private/helpers.ts),
 * and zero buffering is not available (https://docs.aws.amazon.com/firehose/latest/dev/buffering.html).
 * The shortest interval keeps the archive fresh: each tenant-day partition has its own buffer, so
 * at this platform's volume the interval, not the size, closes an object; the end-to-end delay
 * may be 1.5 × the interval (same page).
 */
export const ARCHIVE_BUFFERING = { sizeInMBs: 64, intervalInSeconds: 60 } as const;

/** How long Firehose retries an S3 delivery before writing to the error prefix (0–7200 s). */
export const ARCHIVE_RETRY_SECONDS = 300;

export interface AuditArchiveProps {
  readonly stage: string;
  readonly policy: StagePolicy;
  readonly eventBus: events.IEventBus;
  /** The archive bucket (StatefulStack.auditArchiveBucket). */
  readonly bucket: s3.IBucket;
  /** @default - dead-letter alarm without actions */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * A rule target that is the stream, with a dead-letter queue and retry policy like the consumers'
 * targets. aws-events-targets' Firehose targets take no dead-letter queue, and the one for a
 * CfnDeliveryStream's L2 reference pulls the L2 module's unused CIDR mapping into the template
 * (cfn-lint W7001), so this binds it as they do: the shared events role, allowed to put records
 * into this stream only, plus the dead-letter queue and its queue policy.
 */
class ArchiveStreamTarget implements events.IRuleTarget {
  constructor(
    private readonly stream: firehose.CfnDeliveryStream,
    private readonly message: events.RuleTargetInput,
    private readonly deadLetterQueue: sqs.IQueue,
  ) {}

  bind(rule: events.IRule): events.RuleTargetConfig {
    const role = targets.singletonEventRole(this.stream);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: [this.stream.attrArn],
      }),
    );
    targets.addToDeadLetterQueueResourcePolicy(rule, this.deadLetterQueue);
    return {
      arn: this.stream.attrArn,
      role,
      input: this.message,
      targetResource: this.stream,
      ...targets.bindBaseTargetConfig({
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: CONSUMER_TARGET_RETRY_ATTEMPTS,
        maxEventAge: Duration.seconds(CONSUMER_TARGET_MAX_EVENT_AGE_SECONDS),
      }),
    };
  }
}

/** What the rule sends to the stream for one event: the archived line, as `archivedLineOf` makes it. */
export function archiveMessage(archiveRule: ArchiveRule): events.RuleTargetInput {
  const field = (name: string) => events.EventField.fromPath(detailPath([...archiveRule.recordPath, name]));
  return events.RuleTargetInput.fromObject({
    eventId: events.EventField.eventId,
    kind: archiveRule.kind,
    tenantId: field('tenantId'),
    at: field('at'),
    requestId: archiveRule.requestIdPath
      ? events.EventField.fromPath(detailPath(archiveRule.requestIdPath))
      : null,
    record: events.EventField.fromPath(detailPath(archiveRule.recordPath)),
  });
}

/** The rule's event pattern: its event, and for a nested record, that the record is there. */
export function archivePattern(archiveRule: ArchiveRule): events.EventPattern {
  const required: Record<string, unknown> = { [archiveRule.requiredField]: [{ exists: true }] };
  const detail = archiveRule.recordPath.reduceRight<Record<string, unknown>>(
    (inner, key) => ({ [key]: inner }),
    required,
  );
  return {
    source: [archiveRule.source],
    detailType: [archiveRule.detailType],
    ...(archiveRule.recordPath.length > 0 ? { detail } : {}),
  };
}

/**
 * The audit archive (docs/audit-archive.md): EventBridge rules (shared/records/audit-archive.ts)
 * put each audit and usage record, shaped into one line by an input transformer, into a Firehose
 * stream that partitions by tenant and date (JQ), appends a newline and gzips into the archive
 * bucket; a Glue database and two tables over it for Athena.
 */
export class AuditArchive extends Construct {
  readonly stream: firehose.CfnDeliveryStream;
  readonly role: iam.Role;
  readonly rules: events.Rule[] = [];
  readonly deadLetterQueue: DeadLetterQueue;
  readonly database: glue.CfnDatabase;
  /** Every tenant: partitions registered with MSCK REPAIR TABLE. */
  readonly table: glue.CfnTable;
  /** One tenant at a time (`WHERE tenant = '…'`): partition projection, nothing to register. */
  readonly tenantTable: glue.CfnTable;

  constructor(scope: Construct, id: string, props: AuditArchiveProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const streamName = `tenantry-${props.stage}-audit-archive`;

    const logGroup = new logs.LogGroup(this, 'DeliveryLogs', {
      retention: props.policy.logRetention,
      removalPolicy: props.policy.removalPolicy,
    });
    const logStream = logGroup.addStream('S3Delivery');

    // Only Firehose, and only for this account (the confused-deputy guard Firehose documents:
    // https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3).
    this.role = new iam.Role(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com'),
      externalIds: [stack.account],
      description: `Tenantry ${props.stage}: the audit archive stream writes its bucket's prefixes`,
    });
    // The S3 actions Firehose documents for an S3 destination (same page), on the bucket and on the
    // two prefixes it writes; no delete.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [props.bucket.bucketArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        resources: [
          props.bucket.arnForObjects(`${ARCHIVE_RECORDS_PREFIX}*`),
          props.bucket.arnForObjects(`${ARCHIVE_ERRORS_PREFIX}*`),
        ],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:PutLogEvents'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );

    this.stream = new firehose.CfnDeliveryStream(this, 'Stream', {
      deliveryStreamName: streamName,
      deliveryStreamType: 'DirectPut',
      // Encrypted at rest with a key Firehose owns (AwsSolutions-KDF1).
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: props.bucket.bucketArn,
        roleArn: this.role.roleArn,
        prefix: ARCHIVE_DATA_PREFIX,
        errorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        compressionFormat: 'GZIP',
        bufferingHints: ARCHIVE_BUFFERING,
        dynamicPartitioningConfiguration: {
          enabled: true,
          retryOptions: { durationInSeconds: ARCHIVE_RETRY_SECONDS },
        },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: 'MetadataExtraction',
              parameters: [
                { parameterName: 'MetadataExtractionQuery', parameterValue: PARTITION_JQ_QUERY },
                { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
              ],
            },
            // A newline after each record, so each object is NDJSON: Firehose concatenates records
            // without a delimiter otherwise (https://docs.aws.amazon.com/firehose/latest/dev/basic-deliver.html).
            { type: 'AppendDelimiterToRecord', parameters: [] },
          ],
        },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: logGroup.logGroupName,
          logStreamName: logStream.logStreamName,
        },
      },
    });
    // The role's policy before the stream: Firehose checks its access when the stream is created.
    this.stream.node.addDependency(this.role);

    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue', {
      alarmDescription: `Tenantry ${props.stage}: audit or usage records the archive rules could not put into the stream`,
      alarmTopic: props.alarmTopic,
    });
    for (const archiveRule of archiveRules) {
      const archiveRuleConstruct = new events.Rule(this, archiveRule.name, {
        eventBus: props.eventBus,
        description: `Audit archive: ${archiveRule.kind} records of ${archiveRule.detailType}`,
        eventPattern: archivePattern(archiveRule),
      });
      archiveRuleConstruct.addTarget(
        new ArchiveStreamTarget(this.stream, archiveMessage(archiveRule), this.deadLetterQueue),
      );
      this.rules.push(archiveRuleConstruct);
    }

    const databaseName = `tenantry_${props.stage.replaceAll('-', '_')}_archive`;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: databaseName,
        description: `Tenantry ${props.stage}: audit and usage records of every tenant (docs/audit-archive.md)`,
      },
    });
    const location = `s3://${props.bucket.bucketName}/${ARCHIVE_RECORDS_PREFIX}`;
    const table = (
      constructId: string,
      name: string,
      description: string,
      parameters: Record<string, string>,
    ) => {
      const made = new glue.CfnTable(this, constructId, {
        catalogId: stack.account,
        databaseName,
        tableInput: {
          name,
          description,
          tableType: 'EXTERNAL_TABLE',
          partitionKeys: ARCHIVE_PARTITION_KEYS.map((key) => ({ name: key, type: 'string' })),
          parameters: { classification: 'json', compressionType: 'gzip', ...parameters },
          storageDescriptor: {
            location,
            columns: [...ARCHIVE_COLUMNS],
            inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
          },
        },
      });
      made.addResourceDependency(this.database);
      return made;
    };
    // Partition projection cannot serve cross-tenant queries here: tenant ids are not known in
    // advance, and the `injected` type makes every query name its tenants with equality
    // conditions (https://docs.aws.amazon.com/athena/latest/ug/partition-projection-dynamic-id-partitioning.html);
    // with projection on, Athena ignores registered partitions
    // (https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html). So two tables over
    // the same objects: `records` for every tenant, its Hive-style partitions registered with
    // MSCK REPAIR TABLE (https://docs.aws.amazon.com/athena/latest/ug/msck-repair-table.html), and
    // `tenant_records`, projected (tenant injected, date a date range), for one tenant's queries.
    this.table = table('RecordsTable', 'records', 'Audit and usage records, every tenant', {});
    this.tenantTable = table(
      'TenantRecordsTable',
      'tenant_records',
      "Audit and usage records, one tenant per query (WHERE tenant = '…')",
      {
        'projection.enabled': 'true',
        'projection.tenant.type': 'injected',
        'projection.date.type': 'date',
        'projection.date.format': 'yyyy-MM-dd',
        'projection.date.range': 'NOW-10YEARS,NOW',
        'projection.date.interval': '1',
        'projection.date.interval.unit': 'DAYS',
        'storage.location.template': `${location}tenant=\${tenant}/date=\${date}/`,
      },
    );
  }
}
