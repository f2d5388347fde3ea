import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { ARCHIVE_BUFFERING, ARCHIVE_RETRY_SECONDS } from '#infra/constructs/audit-archive';
import {
  ARCHIVE_COLUMNS,
  ARCHIVE_DATA_PREFIX,
  ARCHIVE_ERROR_PREFIX,
  type ArchivedEvent,
  archivedLineOf,
  archiveRules,
  PARTITION_JQ_QUERY,
} from '#shared/records/audit-archive';
import { archiveFixtures } from '../support/archive-fixtures.ts';

interface Resource {
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}
interface Target {
  Arn: unknown;
  RoleArn: unknown;
  DeadLetterConfig?: { Arn: unknown };
  RetryPolicy?: Record<string, number>;
  InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
}

/** What EventBridge does with an input transformer: each `<name>` becomes the JSON of its path's value. */
function transform(transformer: Target['InputTransformer'], event: ArchivedEvent): unknown {
  const valueAt = (jsonPath: string) =>
    jsonPath
      .replace(/^\$\.?/, '')
      .split('.')
      .filter(Boolean)
      .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], event);
  const text = transformer.InputTemplate.replace(/<([^<>]+)>/g, (_, name: string) => {
    const jsonPath = transformer.InputPathsMap[name];
    if (jsonPath === undefined) throw new Error(`the template names ${name}, which no input path defines`);
    return JSON.stringify(valueAt(jsonPath));
  });
  return JSON.parse(text);
}

/** The patterns the archive rules use: exact source and detail-type, `exists` on nested leaves. */
function matches(pattern: Record<string, unknown>, value: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = (value as Record<string, unknown> | undefined)?.[key];
    if (!Array.isArray(expected)) return matches(expected as Record<string, unknown>, actual);
    return expected.some((option) =>
      typeof option === 'object' && option !== null && 'exists' in option
        ? (actual !== undefined) === (option as { exists: boolean }).exists
        : option === actual,
    );
  });
}

describe('AuditArchive', () => {
  let events: Template;
  let stateful: Template;
  const resources = (template: Template, type: string) =>
    Object.entries(template.findResources(type)) as [string, Resource][];

  beforeAll(() => {
    const app = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    events = Template.fromStack(app.events);
    stateful = Template.fromStack(app.stateful);
  });

  const stream = () => {
    const streams = resources(events, 'AWS::KinesisFirehose::DeliveryStream');
    expect(streams).toHaveLength(1);
    const [id, resource] = streams[0] as [string, Resource];
    return { id, properties: resource.Properties };
  };

  it('partitions by tenant and date with the shared JQ query, gzips, delimits and buffers as dynamic partitioning requires', () => {
    const { properties } = stream();
    expect(properties.DeliveryStreamType).toBe('DirectPut');
    expect(properties.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'AWS_OWNED_CMK' });
    const destination = properties.ExtendedS3DestinationConfiguration as Record<string, unknown>;
    expect(destination).toMatchObject({
      Prefix: ARCHIVE_DATA_PREFIX,
      ErrorOutputPrefix: ARCHIVE_ERROR_PREFIX,
      CompressionFormat: 'GZIP',
      BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
      DynamicPartitioningConfiguration: {
        Enabled: true,
        RetryOptions: { DurationInSeconds: ARCHIVE_RETRY_SECONDS },
      },
      ProcessingConfiguration: {
        Enabled: true,
        Processors: [
          {
            Type: 'MetadataExtraction',
            Parameters: [
              { ParameterName: 'MetadataExtractionQuery', ParameterValue: PARTITION_JQ_QUERY },
              { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
            ],
          },
          { Type: 'AppendDelimiterToRecord', Parameters: [] },
        ],
      },
      CloudWatchLoggingOptions: { Enabled: true },
    });
    expect(ARCHIVE_BUFFERING.sizeInMBs).toBeGreaterThanOrEqual(64);
    expect(ARCHIVE_DATA_PREFIX).toBe(
      'records/tenant=!{partitionKeyFromQuery:tenant}/date=!{partitionKeyFromQuery:date}/',
    );
    expect(JSON.stringify(destination.BucketARN)).toContain('AuditArchiveBucket');
  });

  it('has one rule per archive rule on the bus, each targeting the stream with a dead-letter queue and retries', () => {
    const { id: streamId } = stream();
    const rules = resources(events, 'AWS::Events::Rule').filter(([, rule]) =>
      String(rule.Properties.Description).startsWith('Audit archive:'),
    );
    expect(rules).toHaveLength(archiveRules.length);
    const dlqIds = new Set<string>();
    for (const [, rule] of rules) {
      expect(JSON.stringify(rule.Properties.EventBusName)).toContain('EventBus');
      const targets = rule.Properties.Targets as Target[];
      expect(targets).toHaveLength(1);
      const [target] = targets as [Target];
      expect(target.Arn).toEqual({ 'Fn::GetAtt': [streamId, 'Arn'] });
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 });
      const deadLetterArn = target.DeadLetterConfig?.Arn as { 'Fn::GetAtt': [string] } | undefined;
      expect(deadLetterArn).toBeDefined();
      dlqIds.add(deadLetterArn?.['Fn::GetAtt'][0] ?? '');
    }
    expect(dlqIds.size).toBe(1);
    const [dlqId] = [...dlqIds] as [string];
    expect(events.toJSON().Resources[dlqId].Type).toBe('AWS::SQS::Queue');
    // The rules may send to it, and nothing else; an alarm watches it.
    events.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
    });
    events.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    });
  });

  it('renders patterns and input transformers that make exactly the lines archivedLineOf makes', () => {
    const rules = resources(events, 'AWS::Events::Rule').filter(([, rule]) =>
      String(rule.Properties.Description).startsWith('Audit archive:'),
    );
    let lines = 0;
    for (const archiveRule of archiveRules) {
      const [, rule] =
        rules.find(([id]) => id.includes(archiveRule.name)) ??
        (() => {
          throw new Error(`no rule ${archiveRule.name}`);
        })();
      const [target] = rule.Properties.Targets as [Target];
      for (const [name, event] of Object.entries(archiveFixtures)) {
        const expected = archivedLineOf(archiveRule, event);
        const pattern = rule.Properties.EventPattern as Record<string, unknown>;
        expect(matches(pattern, event), `${archiveRule.name} on ${name}`).toBe(expected !== undefined);
        if (expected) {
          lines += 1;
          expect(transform(target.InputTransformer, event), `${archiveRule.name} on ${name}`).toEqual(
            expected,
          );
        }
      }
    }
    // Both records of the request, one usage-only request, the platform audit, the snapshot usage.
    expect(lines).toBe(5);
  });

  it("gives the stream a role for its bucket's two prefixes and its log stream only, and EventBridge PutRecord(Batch) on the stream", () => {
    const { id: streamId, properties } = stream();
    const roleId = (properties.ExtendedS3DestinationConfiguration as { RoleARN: { 'Fn::GetAtt': [string] } })
      .RoleARN['Fn::GetAtt'][0];
    const role = events.toJSON().Resources[roleId] as Resource;
    expect(role.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Principal: { Service: 'firehose.amazonaws.com' },
          Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    const policies = resources(events, 'AWS::IAM::Policy');
    const policyOf = (id: string) =>
      policies.find(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(id))?.[1];
    const statements =
      (policyOf(roleId)?.Properties.PolicyDocument as { Statement: Record<string, unknown>[] } | undefined)
        ?.Statement ?? [];
    const text = JSON.stringify(statements);
    expect(text).not.toContain('"*"');
    expect(text).not.toMatch(/Delete/);
    expect(statements.map((statement) => statement.Action)).toEqual([
      ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
      'logs:PutLogEvents',
    ]);
    expect(JSON.stringify(statements[1]?.Resource)).toMatch(/\/records\/\*.*\/errors\/\*/);
    expect(JSON.stringify(statements[2]?.Resource)).toMatch(/log-group:.*:log-stream:/);

    const putters = policies.filter(([, policy]) => JSON.stringify(policy.Properties).includes('firehose:'));
    expect(putters).toHaveLength(1);
    expect(
      (putters[0]?.[1].Properties.PolicyDocument as { Statement: unknown[] } | undefined)?.Statement,
    ).toEqual([
      {
        Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [streamId, 'Arn'] },
      },
    ]);
  });

  it('keeps the archive in an encrypted, private, TLS-only, versioned, logged bucket with lifecycle rules', () => {
    const buckets = resources(stateful, 'AWS::S3::Bucket').filter(([id]) =>
      id.startsWith('AuditArchiveBucket'),
    );
    expect(buckets).toHaveLength(1);
    const [bucketId, bucket] = buckets[0] as [string, Resource];
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { LogFilePrefix: 'audit-archive/' },
    });
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Id: 'ArchiveOlderRecords',
          Prefix: 'records/',
          Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
        }),
        expect.objectContaining({ Id: 'ExpireDeliveryErrors', Prefix: 'errors/', ExpirationInDays: 90 }),
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
      ]),
    );
    stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
          }),
        ]),
      },
    });
  });

  it('describes the lines to Athena: two Glue tables, JSON SerDe, tenant and date partitions, projection on the per-tenant one', () => {
    const databases = resources(events, 'AWS::Glue::Database');
    expect(databases).toHaveLength(1);
    const databaseName = (databases[0]?.[1].Properties.DatabaseInput as { Name: string } | undefined)?.Name;
    expect(databaseName).toBe('tenantry_dev_archive');
    const tables = new Map(
      resources(events, 'AWS::Glue::Table').map(([, table]) => {
        const input = table.Properties.TableInput as Record<string, unknown>;
        return [input.Name as string, { database: table.Properties.DatabaseName, input }];
      }),
    );
    expect([...tables.keys()].sort()).toEqual(['records', 'tenant_records']);
    for (const { database, input } of tables.values()) {
      expect(database).toBe(databaseName);
      expect(input.PartitionKeys).toEqual([
        { Name: 'tenant', Type: 'string' },
        { Name: 'date', Type: 'string' },
      ]);
      const storage = input.StorageDescriptor as Record<string, unknown>;
      expect(storage.Columns).toEqual(ARCHIVE_COLUMNS.map(({ name, type }) => ({ Name: name, Type: type })));
      expect(storage.SerdeInfo).toEqual({ SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' });
      expect(JSON.stringify(storage.Location)).toContain('/records/');
    }
    expect(tables.get('records')?.input.Parameters).not.toHaveProperty('projection.enabled');
    const projected = tables.get('tenant_records')?.input.Parameters as Record<string, unknown>;
    expect(projected).toMatchObject({
      'projection.enabled': 'true',
      'projection.tenant.type': 'injected',
      'projection.date.type': 'date',
      'projection.date.format': 'yyyy-MM-dd',
      'projection.date.interval.unit': 'DAYS',
    });
    expect(JSON.stringify(projected['storage.location.template'])).toContain(
      // Athena's template placeholders, literally.
      ['/records/tenant=$', '{tenant}/date=$', '{date}/'].join(''),
    );
  });
});
