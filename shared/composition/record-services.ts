import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { AwsClientConfig } from '#shared/adapters/aws-client-config';
import { FileExportArchive } from '#shared/adapters/file-export-archive';
import { S3ExportArchive } from '#shared/adapters/s3-export-archive';
import { configFields, loadConfig } from '#shared/config';
import { ConfigError } from '#shared/errors';
import type { ExportArchive } from '#shared/ports/export-archive';
import { AuditStore } from '#shared/records/audit-store';
import { MetricsStore } from '#shared/records/metrics-store';
import { recordTables } from '#shared/records/tables';
import { UsageStore } from '#shared/records/usage-store';

export interface RecordServices {
  readonly audit: AuditStore;
  readonly usage: UsageStore;
  readonly metrics: MetricsStore;
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
 * The record stores and the export archive from the function's configuration, each made on first
 * use: the table names in `AUDIT_TABLE_NAME` / `USAGE_TABLE_NAME`, the archive in the S3 bucket
 * `EXPORTS_BUCKET_NAME` (AWS) or the folder `EXPORTS_DIR` (local platform).
 */
export function recordServicesFrom(
  env: Record<string, string | undefined> = process.env,
  aws: AwsClientConfig = {},
): RecordServices {
  let dynamo: DynamoDBClient | undefined;
  const client = () => {
    dynamo ??= new DynamoDBClient({ ...aws });
    return dynamo;
  };
  let audit: AuditStore | undefined;
  let usage: UsageStore | undefined;
  let metrics: MetricsStore | undefined;
  let archive: ExportArchive | undefined;
  const usageTable = () => loadConfig(z.object({ [recordTables.usage.envVar]: configFields.name }), env);
  return {
    get audit() {
      if (!audit) {
        const config = loadConfig(
          z.object({
            [recordTables.audit.envVar]: configFields.name,
            AUDIT_RETENTION_DAYS: auditRetentionSchema,
          }),
          env,
        );
        audit = new AuditStore(
          client(),
          String(config[recordTables.audit.envVar]),
          Number(config.AUDIT_RETENTION_DAYS),
        );
      }
      return audit;
    },
    get usage() {
      usage ??= new UsageStore(client(), String(usageTable()[recordTables.usage.envVar]));
      return usage;
    },
    get metrics() {
      metrics ??= new MetricsStore(client(), String(usageTable()[recordTables.usage.envVar]));
      return metrics;
    },
    get archive() {
      if (!archive) {
        if (env.EXPORTS_BUCKET_NAME)
          archive = new S3ExportArchive(new S3Client({ ...aws }), env.EXPORTS_BUCKET_NAME);
        else if (env.EXPORTS_DIR) archive = new FileExportArchive(env.EXPORTS_DIR);
        else
          throw new ConfigError('Invalid configuration: EXPORTS_BUCKET_NAME: missing', [
            'EXPORTS_BUCKET_NAME',
          ]);
      }
      return archive;
    },
  };
}

let installed: RecordServices | (() => RecordServices) | undefined;

/**
 * The local platform installs its own: one set per function, chosen by the function that is
 * running (see installServices in runtime.ts).
 */
export function installRecordServices(services: RecordServices | (() => RecordServices)): void {
  installed = services;
}

/** The installed record services, else (in Lambda) those of the function's configuration. */
export function recordServices(): RecordServices {
  installed ??= recordServicesFrom();
  return typeof installed === 'function' ? installed() : installed;
}
