import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3BackupStore } from '#shared/adapters/s3-backup-store';

/*
 * No S3 runs on the local platform (backups go to the state folder), so what the S3 adapter
 * sends is proven against the SDK's command layer. PutObject SSE-KMS:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html; DeleteObjects ≤ 1 000 keys,
 * failures in `Errors`: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
 */

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' };
const client = new S3Client({ region: 'eu-west-1', credentials });
const s3 = mockClient(client);
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const store = new S3BackupStore(client, 'exports-bucket', KEY_ARN);
const TENANT = 't_abcdefghijklmnopqrst';

// biome-ignore lint/suspicious/noExplicitAny: the SDK's streaming body type is runtime-specific; only transformToByteArray is read.
const body = (bytes: Uint8Array): any => ({ transformToByteArray: async () => bytes });

beforeEach(() => s3.reset());

describe('S3BackupStore', () => {
  it('puts under backups/<tenant>/ with SSE-KMS naming our key and a bucket key', async () => {
    s3.on(PutObjectCommand).resolves({});
    const bytes = Buffer.from([0x1f, 0x8b, 0x08]);
    await store.put(TENANT, 'b1/db1/orders/part-00001.ndjson.gz', bytes);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'exports-bucket',
      Key: `backups/${TENANT}/b1/db1/orders/part-00001.ndjson.gz`,
      Body: bytes,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: KEY_ARN,
      BucketKeyEnabled: true,
    });
  });

  it('gets the bytes without encryption headers, and null for NoSuchKey', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    s3.on(GetObjectCommand, { Key: `backups/${TENANT}/b1/x` }).resolves({ Body: body(bytes) });
    s3.on(GetObjectCommand, { Key: `backups/${TENANT}/b1/none` }).rejects(
      new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }),
    );
    await expect(store.get(TENANT, 'b1/x')).resolves.toEqual(bytes);
    await expect(store.get(TENANT, 'b1/none')).resolves.toBeNull();
    const sent = s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input);
    for (const input of sent) {
      expect(input).toEqual({ Bucket: 'exports-bucket', Key: input.Key });
    }
  });

  it('lists every page under the tenant prefix, keys relative to it', async () => {
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      Contents: [{ Key: `backups/${TENANT}/b1/db/t/part-00002.ndjson.gz`, Size: 20 }],
      NextContinuationToken: 'next',
    });
    s3.on(ListObjectsV2Command, { ContinuationToken: 'next' }).resolves({
      Contents: [{ Key: `backups/${TENANT}/b1/db/t/part-00001.ndjson.gz`, Size: 10 }],
    });
    await expect(store.list(TENANT, 'b1/')).resolves.toEqual([
      { key: 'b1/db/t/part-00001.ndjson.gz', bytes: 10 },
      { key: 'b1/db/t/part-00002.ndjson.gz', bytes: 20 },
    ]);
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: 'exports-bucket',
      Prefix: `backups/${TENANT}/b1/`,
    });
  });

  it('deletes in batches of at most 1 000 keys, and fails when S3 reports keys it could not delete', async () => {
    s3.on(DeleteObjectsCommand).resolves({});
    const keys = Array.from(
      { length: 2_001 },
      (_, i) => `b1/db/t/part-${String(i).padStart(5, '0')}.ndjson.gz`,
    );
    await store.delete(TENANT, keys);
    const batches = s3
      .commandCalls(DeleteObjectsCommand)
      .map((call) => call.args[0].input.Delete?.Objects ?? []);
    expect(batches.map((b) => b.length)).toEqual([1_000, 1_000, 1]);
    expect(batches[0]?.[0]).toEqual({ Key: `backups/${TENANT}/b1/db/t/part-00000.ndjson.gz` });

    s3.reset();
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'k', Code: 'AccessDenied', Message: 'no' }] });
    await expect(store.delete(TENANT, ['b1/x'])).rejects.toThrow('AccessDenied');
  });

  it('never builds a key outside the tenant prefix', async () => {
    await expect(store.put(TENANT, '../t_otherotherotherother/x', Buffer.from('x'))).rejects.toThrow(
      'unsafe key',
    );
    await expect(store.get('t_x/../t_y', 'a')).rejects.toThrow('not a tenant id');
    expect(s3.calls()).toHaveLength(0);
  });
});
