import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type BackupObject, type BackupStore, checkedKey } from '#shared/ports/backup-store';

const PREFIX = 'backups/';
/** DeleteObjects takes at most 1 000 keys per request (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html). */
const DELETE_BATCH = 1_000;

/**
 * The export bucket's backups: `backups/<tenantId>/<key>`, every object encrypted with our KMS
 * key (SSE-KMS): each PUT says `x-amz-server-side-encryption: aws:kms` and names the key's ARN,
 * with an S3 Bucket Key so that KMS is called per bucket key rather than per part
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html). Naming the key matters:
 * `aws:kms` without a key id encrypts with the AWS managed key `aws/s3`, which a key policy of ours
 * cannot scope (https://sdk.amazonaws.com/kotlin/api/latest/s3/aws.sdk.kotlin.services.s3.model/-put-object-request/ssekms-key-id.html).
 * GETs send no encryption headers: S3 answers 400 to them on SSE-KMS objects
 * (http://docs.aws.amazon.com/AmazonS3/latest/dev/KMSUsingRESTAPI.html).
 */
export class S3BackupStore implements BackupStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly kmsKeyArn: string,
  ) {}

  #key(tenantId: string, key: string): string {
    return `${PREFIX}${tenantId}/${checkedKey(tenantId, key)}`;
  }

  async put(tenantId: string, key: string, body: Uint8Array): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.#key(tenantId, key),
        Body: body,
        ContentType: 'application/octet-stream',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: this.kmsKeyArn,
        BucketKeyEnabled: true,
      }),
    );
  }

  async get(tenantId: string, key: string): Promise<Uint8Array | null> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(tenantId, key) }),
      );
      return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
    } catch (error) {
      if (error instanceof NoSuchKey) return null;
      throw error;
    }
  }

  async list(tenantId: string, prefix: string): Promise<BackupObject[]> {
    const root = `${PREFIX}${tenantId}/`;
    const objects: BackupObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: `${root}${checkedKey(tenantId, prefix, { prefix: true })}`,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key?.startsWith(root)) {
          objects.push({ key: object.Key.slice(root.length), bytes: object.Size ?? 0 });
        }
      }
      token = page.NextContinuationToken;
    } while (token);
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** In batches of 1 000; a key S3 could not delete fails the call (S3 answers those in `Errors`, not as an error). */
  async delete(tenantId: string, keys: readonly string[]): Promise<void> {
    const objectKeys = keys.map((key) => this.#key(tenantId, key));
    for (let start = 0; start < objectKeys.length; start += DELETE_BATCH) {
      const batch = objectKeys.slice(start, start + DELETE_BATCH);
      const answer = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = answer.Errors ?? [];
      if (failed.length > 0) {
        throw new Error(
          `S3 refused to delete ${failed.length} backup object(s): ${failed[0]?.Code ?? 'unknown'}`,
        );
      }
    }
  }
}
