import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveFlushIntervalMs, LocalAuditArchive } from '#infra/local/audit-archive';
import {
  type ArchivedLine,
  archivedLineSchema,
  archivedLinesOf,
  PARTITION_JQ_QUERY,
  PLATFORM_PARTITION,
  partitionOf,
  partitionPrefix,
} from '#shared/records/audit-archive';
import { archiveFixtures } from '../support/archive-fixtures.ts';

const allLines = () => Object.values(archiveFixtures).flatMap((event) => archivedLinesOf(event));

describe('archivedLinesOf', () => {
  it("makes one line per record: a request's audit and usage apart, both with the event id and request id", () => {
    // Act
    const lines = archivedLinesOf(archiveFixtures.requestWithBoth as never);
    // Assert
    expect(lines.map((line) => line.kind)).toEqual(['audit', 'usage']);
    for (const line of lines) {
      expect(line).toMatchObject({
        eventId: 'e-both',
        tenantId: 't_abcdefghijklmnopqrst',
        at: '2026-12-04T10:00:00.000Z',
        requestId: 'req-1',
      });
    }
    expect(lines[0]?.record).toMatchObject({ action: 'table.create', outcome: 'success' });
    expect(lines[1]?.record).toMatchObject({ resourceType: 'api_call', quantity: 1 });
  });

  it('archives no metric, no request without records and no event of another source', () => {
    expect(archivedLinesOf(archiveFixtures.requestWithNeither as never)).toEqual([]);
    expect(archivedLinesOf(archiveFixtures.metricSample as never)).toEqual([]);
    expect(archivedLinesOf(archiveFixtures.otherSource as never)).toEqual([]);
  });

  it('keeps platform-level audit records (no tenant) and snapshot usage (no request id)', () => {
    const [platform] = archivedLinesOf(archiveFixtures.platformAudit as never);
    expect(platform).toMatchObject({ kind: 'audit', tenantId: null, requestId: 'req-4' });
    expect(partitionOf(platform as ArchivedLine)).toEqual({ tenant: PLATFORM_PARTITION, date: '2026-12-04' });
    const [snapshot] = archivedLinesOf(archiveFixtures.snapshotUsage as never);
    expect(snapshot).toMatchObject({
      kind: 'usage',
      requestId: null,
      record: { resourceType: 'storage_bytes' },
    });
  });

  it('refuses a record without the fields a line needs', () => {
    const broken = { ...archiveFixtures.snapshotUsage, detail: { tenantId: 't_x' } };
    expect(() => archivedLinesOf(broken as never)).toThrow();
  });
});

describe('the partition of a line', () => {
  it("is what Firehose's JQ query extracts (jq 1.6 on the same lines)", () => {
    const lines = allLines();
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      // Act: the query as Firehose's MetadataExtraction processor runs it, on the line's JSON
      const extracted = JSON.parse(
        execFileSync('jq', ['-c', PARTITION_JQ_QUERY], { input: JSON.stringify(line), encoding: 'utf8' }),
      );
      // Assert
      expect(extracted).toEqual(partitionOf(line));
    }
  });

  it('fills the S3 prefix with the tenant and the day', () => {
    expect(partitionPrefix({ tenant: 't_abc', date: '2026-12-04' })).toBe(
      'records/tenant=t_abc/date=2026-12-04/',
    );
  });
});

describe('LocalAuditArchive', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-archive-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Every archived object under `dir`, by its key (path relative to the bucket), decompressed and parsed. */
  async function objects(): Promise<Map<string, ArchivedLine[]>> {
    const found = new Map<string, ArchivedLine[]>();
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const key = path.relative(dir, path.join(entry.parentPath, entry.name));
      const text = gunzipSync(await readFile(path.join(dir, key))).toString('utf8');
      expect(text.endsWith('\n'), key).toBe(true);
      found.set(
        key,
        text
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line))
          // Records are lines of the archive's shape; what failed is filed as the event it was.
          .map((value) => (key.includes('records/') ? archivedLineSchema.parse(value) : value)),
      );
    }
    return found;
  }

  it('writes one gzip NDJSON object per tenant-day partition on flush, and nothing before', async () => {
    // Arrange
    const archive = new LocalAuditArchive({ dir, streamName: 's', flushIntervalMs: 60_000 });
    for (const event of Object.values(archiveFixtures)) archive.accept(event);
    expect(archive.pending).toBe(5);
    expect(await objects()).toEqual(new Map());
    // Act
    await archive.flush();
    // Assert
    const written = await objects();
    const byPrefix = [...written.entries()].map(([key, lines]) => [path.dirname(key), lines] as const);
    expect(byPrefix.map(([prefix]) => prefix).sort()).toEqual([
      'records/tenant=_platform/date=2026-12-04',
      'records/tenant=t_abcdefghijklmnopqrst/date=2026-12-04',
      'records/tenant=t_abcdefghijklmnopqrst/date=2026-12-05',
    ]);
    for (const [prefix, lines] of byPrefix) {
      for (const line of lines) expect(partitionPrefix(partitionOf(line))).toBe(`${prefix}/`);
    }
    expect([...written.values()].flat()).toHaveLength(5);
    expect(
      [...written.keys()].every((key) => /\/s-1-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{36}\.gz$/.test(key)),
    ).toBe(true);
    expect(archive.pending).toBe(0);
  });

  it('writes what is buffered when stopped', async () => {
    const archive = new LocalAuditArchive({ dir, streamName: 's', flushIntervalMs: 60_000 });
    archive.start();
    archive.accept(archiveFixtures.requestWithBoth as never);
    await archive.stop();
    expect([...(await objects()).values()].flat().map((line) => line.kind)).toEqual(['audit', 'usage']);
  });

  it('flushes on its interval', async () => {
    const archive = new LocalAuditArchive({ dir, streamName: 's', flushIntervalMs: 20 });
    archive.start();
    archive.accept(archiveFixtures.snapshotUsage as never);
    const deadline = Date.now() + 5000;
    while ((await objects()).size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await archive.stop();
    expect([...(await objects()).values()].flat()).toHaveLength(1);
  });

  it('keeps the lines of a failed write for the next flush, and files an event it cannot shape under errors/', async () => {
    // Arrange: the bucket folder is a file, so the first write fails
    const bucket = path.join(dir, 'bucket');
    await writeFile(bucket, 'not a folder');
    const errors: unknown[] = [];
    const archive = new LocalAuditArchive({
      dir: bucket,
      streamName: 's',
      flushIntervalMs: 60_000,
      onError: (error) => errors.push(error),
    });
    archive.accept(archiveFixtures.requestWithBoth as never);
    archive.accept({ ...archiveFixtures.snapshotUsage, detail: { tenantId: 't_x' } } as never);
    // Act
    await archive.flush();
    // Assert
    expect(errors).toHaveLength(1);
    expect(archive.pending).toBe(3);
    await rm(bucket);
    await archive.flush();
    expect(archive.pending).toBe(0);
    const keys = [...(await objects()).keys()];
    expect(keys.filter((key) => key.startsWith('bucket/records/'))).toHaveLength(1);
    expect(keys.filter((key) => key.startsWith('bucket/errors/processing-failed/'))).toHaveLength(1);
  });
});

describe('archiveFlushIntervalMs', () => {
  it('defaults to a second and refuses what is not a sensible whole number of milliseconds', () => {
    expect(archiveFlushIntervalMs(undefined)).toBe(1000);
    expect(archiveFlushIntervalMs('250')).toBe(250);
    for (const bad of ['0', '-5', '1.5', 'soon', '900001'])
      expect(() => archiveFlushIntervalMs(bad)).toThrow();
  });
});
