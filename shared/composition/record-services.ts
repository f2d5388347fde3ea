import * as z from 'zod';
import { type AwsClients, clientOptions } from '#shared/composition/aws-clients';
import { lazyPort, once } from '#shared/composition/lazy';
import { configFields, loadConfig } from '#shared/config';
import { ConfigError } from '#shared/errors';
import type { ExportArchive } from '#shared/ports/export-archive';
import type {
  AnalyticsRecords,
  AuditRecords,
  MetricRecords,
  RecordBatches,
  UsageRecords,
} from '#shared/records/stores';
import { recordTables } from '#shared/records/tables';

export type { AnalyticsRecords, AuditRecords, MetricRecords, RecordBatches, UsageRecords };

export interface RecordServices {
  readonly audit: AuditRecords;
  readonly usage: UsageRecords;
  readonly metrics: MetricRecords;
  /** The fleet analytics rollups of each month (docs/analytics.md), in the usage table. */
  readonly analytics: AnalyticsRecords;
  /** The records consumer's writer: audit records and usage/metric aggregates of a batch of events. */
  readonly batches: RecordBatches;
  readonly archive: ExportArchive;
}

/** Audit records are kept this many days unless `AUDIT_RETENTION_DAYS` says otherwise. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 400;
export const auditRetentionSchema = z.coerce
  .number()
  .int()
  .min(1)
  .max(3650)
  .default(DEFAULT_AUDIT_RETENTION_DAYS);

/**
 * The record stores and the export archive of a function's configuration, each made on first
 * use (its configuration validated then, its store and SDK modules imported on its first call):
 * the table names in `AUDIT_TABLE_NAME` / `USAGE_TABLE_NAME`, the archive in the S3 bucket
 * `EXPORTS_BUCKET_NAME` (AWS) or the folder `EXPORTS_DIR` (local platform).
 */
export function recordServicesFrom(
  env: Readonly<Record<string, string | undefined>>,
  clients: AwsClients = {},
): RecordServices {
  let dynamo: Promise<import('@aws-sdk/client-dynamodb').DynamoDBClient> | undefined;
  const client = () => {
    dynamo ??= import('@aws-sdk/client-dynamodb').then(
      ({ DynamoDBClient }) => new DynamoDBClient(clientOptions(clients, 'dynamodb')),
    );
    return dynamo;
  };
  const usageTable = () =>
    String(
      loadConfig(z.object({ [recordTables.usage.envVar]: configFields.name }), env)[
        recordTables.usage.envVar
      ],
    );
  const auditConfig = once(() => {
    const config = loadConfig(
      z.object({
        [recordTables.audit.envVar]: configFields.name,
        AUDIT_RETENTION_DAYS: auditRetentionSchema,
      }),
      env,
    );
    return {
      table: String(config[recordTables.audit.envVar]),
      retentionDays: Number(config.AUDIT_RETENTION_DAYS),
    };
  });
  const auditStore = async () => {
    const { table, retentionDays } = auditConfig();
    const { AuditStore } = await import('#shared/records/audit-store');
    return new AuditStore(await client(), table, retentionDays);
  };
  const audit = once((): AuditRecords => {
    auditConfig();
    return lazyPort<AuditRecords>(auditStore);
  });
  const batches = once((): RecordBatches => {
    auditConfig();
    const table = usageTable();
    return lazyPort<RecordBatches>(async () => {
      const { RecordBatchWriter } = await import('#shared/records/record-batch');
      return new RecordBatchWriter(await client(), { usageTable: table, audit: await auditStore() });
    });
  });
  const usage = once((): UsageRecords => {
    const table = usageTable();
    return lazyPort<UsageRecords>(
      async () => new (await import('#shared/records/usage-store')).UsageStore(await client(), table),
    );
  });
  const metrics = once((): MetricRecords => {
    const table = usageTable();
    return lazyPort<MetricRecords>(
      async () => new (await import('#shared/records/metrics-store')).MetricsStore(await client(), table),
    );
  });
  const analytics = once((): AnalyticsRecords => {
    const table = usageTable();
    return lazyPort<AnalyticsRecords>(
      async () => new (await import('#shared/records/analytics-store')).AnalyticsStore(await client(), table),
    );
  });
  const archive = once((): ExportArchive => {
    const bucket = env.EXPORTS_BUCKET_NAME;
    const dir = env.EXPORTS_DIR;
    if (bucket) {
      return lazyPort(async () => {
        const [{ S3Client }, { S3ExportArchive }] = await Promise.all([
          import('@aws-sdk/client-s3'),
          import('#shared/adapters/s3-export-archive'),
        ]);
        return new S3ExportArchive(new S3Client(clientOptions(clients, 's3')), bucket);
      });
    }
    if (dir)
      return lazyPort(
        async () => new (await import('#shared/adapters/file-export-archive')).FileExportArchive(dir),
      );
    throw new ConfigError('Invalid configuration: EXPORTS_BUCKET_NAME: missing', ['EXPORTS_BUCKET_NAME']);
  });
  return {
    get audit() {
      return audit();
    },
    get usage() {
      return usage();
    },
    get metrics() {
      return metrics();
    },
    get analytics() {
      return analytics();
    },
    get batches() {
      return batches();
    },
    get archive() {
      return archive();
    },
  };
}
