import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { TenantryFunction } from '#infra/constructs/tenantry-function';

/* The exports bucket's grants of the needs `exportArchive(Write)` and `backupStore` (infra/constructs/needs.ts). */

/** Prefix of the usage exports in the exports bucket (see S3ExportArchive). */
export const EXPORTS_PREFIX = 'usage-exports/';

/**
 * Grants exactly what the export archive does, on its prefix only: list it, read its objects,
 * and (`write`) create them. No delete: a closed month's file is never removed or replaced.
 */
export function grantExportsArchive(fn: TenantryFunction, bucket: s3.IBucket, mode: 'read' | 'write'): void {
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      // IfExists: S3 also asks for s3:ListBucket when a GetObject names a key that does not exist
      // (NoSuchKey for a caller with it, AccessDenied without:
      // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html), and that check is
      // no list request, so it has no s3:prefix. A plain StringLike made every read of a month not
      // yet archived an AccessDenied (a 500) instead of a 404. Lists must still stay in the prefix.
      conditions: { StringLikeIfExists: { 's3:prefix': [`${EXPORTS_PREFIX}*`] } },
    }),
  );
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({
      actions: mode === 'write' ? ['s3:GetObject', 's3:PutObject'] : ['s3:GetObject'],
      resources: [bucket.arnForObjects(`${EXPORTS_PREFIX}*`)],
    }),
  );
  fn.addEnvironment('EXPORTS_BUCKET_NAME', bucket.bucketName);
}

/** Prefix of the tenants' backups in the exports bucket (see S3BackupStore). */
export const BACKUPS_PREFIX = 'backups/';

/**
 * Grants exactly what S3BackupStore does, on `backups/` only: list it (ListObjectsV2), read, write
 * and delete its objects (DeleteObjects asks s3:DeleteObject for each key:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html), and use the backups key
 * the objects are encrypted with. Uploading an SSE-KMS object needs kms:GenerateDataKey on its
 * key, reading it kms:Decrypt (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html,
 * "Permissions"), through S3 only (kms:ViaService,
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service):
 * the role cannot decrypt with the key directly. The bucket is versioned: a deleted object leaves
 * a noncurrent version, which the bucket's lifecycle rule on `backups/` expires (StatefulStack).
 */
export function grantBackupStore(fn: TenantryFunction, bucket: s3.IBucket, key: kms.IKey): void {
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      // IfExists, as for the archive: a GetObject of a missing key is checked against
      // s3:ListBucket without an s3:prefix (NoSuchKey instead of AccessDenied).
      conditions: { StringLikeIfExists: { 's3:prefix': [`${BACKUPS_PREFIX}*`] } },
    }),
  );
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [bucket.arnForObjects(`${BACKUPS_PREFIX}*`)],
    }),
  );
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
  fn.addEnvironment('BACKUPS_BUCKET_NAME', bucket.bucketName);
  fn.addEnvironment('BACKUPS_KEY_ARN', key.keyArn);
}
