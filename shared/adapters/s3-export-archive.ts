import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { csvToLines } from '#shared/exports/export-lines';
import type { ArchivedExport, ArchiveEntry, ExportArchive } from '#shared/ports/export-archive';

const PREFIX = 'usage-exports/';
const KEY = /^usage-exports\/(\d{4}-\d{2})\.csv$/;

/**
 * The exports bucket: `usage-exports/<YYYY-MM>.csv`. The put is conditional (`If-None-Match: *`),
 * so a closed month is never overwritten, even by a second run of the job.
 */
export class S3ExportArchive implements ExportArchive {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(archived: ArchivedExport): Promise<boolean> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: `${PREFIX}${archived.month}.csv`,
          Body: archived.csv,
          ContentType: 'text/csv; charset=utf-8',
          IfNoneMatch: '*',
          Metadata: { 'closed-at': archived.closedAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412) return false;
      throw error;
    }
  }

  async get(month: string): Promise<ArchivedExport | null> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: `${PREFIX}${month}.csv` }),
      );
      const csv = (await object.Body?.transformToString('utf-8')) ?? '';
      const closedAt = object.Metadata?.['closed-at'] ?? object.LastModified?.toISOString() ?? '';
      return { month, csv, lines: csvToLines(csv), closedAt };
    } catch (error) {
      if (error instanceof NoSuchKey) return null;
      throw error;
    }
  }

  async list(): Promise<ArchiveEntry[]> {
    const entries: ArchiveEntry[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: PREFIX, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const month = KEY.exec(object.Key ?? '')?.[1];
        if (month) {
          entries.push({
            month,
            bytes: object.Size ?? 0,
            closedAt: object.LastModified?.toISOString() ?? '',
          });
        }
      }
      token = page.NextContinuationToken;
    } while (token);
    return entries.sort((a, b) => b.month.localeCompare(a.month));
  }
}
