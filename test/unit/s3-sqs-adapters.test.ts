import 'aws-sdk-client-mock-vitest/extend';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ExportArchive } from '#shared/adapters/s3-export-archive';
import { SqsDeadLetterSink } from '#shared/adapters/sqs-dead-letter';
import { linesToCsv } from '#shared/exports/export-lines';

/*
 * No S3 or SQS runs on the local platform (the archive is a folder, the dead letters a file), so
 * what these two adapters send is proven here against the SDK's command layer
 * (docs/local-platform.md, "What still differs from AWS", 5).
 * PutObject If-None-Match: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (412)
 * GetObject NoSuchKey: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' };
const s3Client = new S3Client({ region: 'eu-west-1', credentials });
const s3 = mockClient(s3Client);
const sqsClient = new SQSClient({ region: 'eu-west-1', credentials });
const sqs = mockClient(sqsClient);
const archive = new S3ExportArchive(s3Client, 'exports-bucket');
const csv = linesToCsv([
  {
    tenantId: 't1',
    tenantName: 'Acme',
    month: '2026-10',
    resourceType: 'api_calls',
    quantity: 3,
    unit: 'count',
    plan: 'free',
    parentId: null,
    rootId: 't1',
  },
]);

/** A GetObject body as the SDK hands it over: a stream with `transformToString`. */
// biome-ignore lint/suspicious/noExplicitAny: the SDK's streaming body type is runtime-specific; only transformToString is read.
const body = (text: string): any => ({ transformToString: async () => text });

beforeEach(() => {
  s3.reset();
  sqs.reset();
});

describe('S3ExportArchive', () => {
  it('puts usage-exports/<month>.csv only if absent, with the close time as metadata', async () => {
    s3.on(PutObjectCommand).resolves({});
    await expect(
      archive.put({ month: '2026-10', csv, lines: [], closedAt: '2026-11-01T00:05:00.000Z' }),
    ).resolves.toBe(true);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'exports-bucket',
      Key: 'usage-exports/2026-10.csv',
      Body: csv,
      IfNoneMatch: '*',
      Metadata: { 'closed-at': '2026-11-01T00:05:00.000Z' },
    });
  });

  it('answers false, writing nothing more, when the month is archived already (412)', async () => {
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        $metadata: { httpStatusCode: 412 },
        message: 'At least one of the pre-conditions you specified did not hold',
      }),
    );
    await expect(archive.put({ month: '2026-10', csv, lines: [], closedAt: 'x' })).resolves.toBe(false);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
  });

  it('rethrows any other refusal (AccessDenied) rather than calling it archived', async () => {
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'no',
      }),
    );
    await expect(archive.put({ month: '2026-10', csv, lines: [], closedAt: 'x' })).rejects.toThrow('no');
  });

  it('reads a month with its lines and close time, and null for NoSuchKey', async () => {
    s3.on(GetObjectCommand, { Key: 'usage-exports/2026-10.csv' }).resolves({
      Body: body(csv),
      Metadata: { 'closed-at': '2026-11-01T00:05:00.000Z' },
    });
    s3.on(GetObjectCommand, { Key: 'usage-exports/1999-01.csv' }).rejects(
      new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }),
    );
    const found = await archive.get('2026-10');
    expect(found?.closedAt).toBe('2026-11-01T00:05:00.000Z');
    expect(found?.lines).toEqual([
      {
        tenantId: 't1',
        tenantName: 'Acme',
        month: '2026-10',
        resourceType: 'api_calls',
        quantity: 3,
        unit: 'count',
        plan: 'free',
        parentId: null,
        rootId: 't1',
      },
    ]);
    await expect(archive.get('1999-01')).resolves.toBeNull();
  });

  it('lists every page under the prefix, months only, newest first', async () => {
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      Contents: [
        { Key: 'usage-exports/2026-09.csv', Size: 10, LastModified: new Date('2026-10-01T00:00:00Z') },
      ],
      NextContinuationToken: 'next',
    });
    s3.on(ListObjectsV2Command, { ContinuationToken: 'next' }).resolves({
      Contents: [
        { Key: 'usage-exports/2026-10.csv', Size: 20, LastModified: new Date('2026-11-01T00:00:00Z') },
        { Key: 'usage-exports/notes.txt', Size: 1, LastModified: new Date('2026-11-01T00:00:00Z') },
      ],
    });
    await expect(archive.list()).resolves.toEqual([
      { month: '2026-10', bytes: 20, closedAt: '2026-11-01T00:00:00.000Z' },
      { month: '2026-09', bytes: 10, closedAt: '2026-10-01T00:00:00.000Z' },
    ]);
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: 'exports-bucket',
      Prefix: 'usage-exports/',
    });
  });
});

describe('SqsDeadLetterSink', () => {
  it('sends one JSON message per write to the queue URL, with the reason, the failed records and the time', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const sink = new SqsDeadLetterSink(sqsClient, 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq');
    const failed = [
      {
        event: { source: 'tenantry.api', detailType: 'Metric Sample', detail: { n: 1 } },
        code: 'AccessDeniedException',
        message: 'no',
      },
    ];
    await sink.write({ reason: 'not published', failed } as never);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    const sent = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(sent?.QueueUrl).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/dlq');
    const message = JSON.parse(sent?.MessageBody ?? '{}') as {
      reason: string;
      failed: unknown;
      deadLetteredAt: string;
    };
    expect(message.reason).toBe('not published');
    expect(message.failed).toEqual(failed);
    expect(Number.isNaN(Date.parse(message.deadLetteredAt))).toBe(false);
  });

  it('lets a refused send fail the write (the caller logs the records as the last resort)', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('AccessDenied'));
    const sink = new SqsDeadLetterSink(sqsClient, 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq');
    await expect(sink.write({ reason: 'r', failed: [] })).rejects.toThrow('AccessDenied');
  });
});
