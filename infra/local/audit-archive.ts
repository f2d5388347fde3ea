import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  ARCHIVE_ERRORS_PREFIX,
  type ArchivedEvent,
  type ArchivedLine,
  archivedLinesOf,
  partitionOf,
  partitionPrefix,
} from '#shared/records/audit-archive';

const gzipped = promisify(gzip);

/** The archive bucket's stand-in under the state folder: `<state>/audit-archive/records/…`. */
export const auditArchiveDir = (stateDir: string) => path.join(stateDir, 'audit-archive');

/**
 * `TENANTRY_ARCHIVE_FLUSH_MS`: how often the local archive writes what it buffered (1000 ms by
 * default; the stream in AWS buffers 60 s or 64 MiB per partition, infra/constructs/audit-archive.ts).
 */
export function archiveFlushIntervalMs(raw = process.env.TENANTRY_ARCHIVE_FLUSH_MS): number {
  if (raw === undefined) return 1000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 10 || value > 900_000) {
    throw new Error(
      `TENANTRY_ARCHIVE_FLUSH_MS must be a whole number of milliseconds from 10 to 900000, not ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

export interface LocalAuditArchiveOptions {
  /** The bucket's folder (auditArchiveDir). */
  readonly dir: string;
  /** Names the objects, as the stream's name does in AWS. */
  readonly streamName: string;
  readonly flushIntervalMs: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * The audit archive's Firehose stream on the local platform: the bus hands it every event it
 * accepted; the archive rules (shared/records/audit-archive.ts) make its lines, which are buffered
 * per tenant-and-date partition and written, on an interval and on stop, as one gzip NDJSON object
 * per partition under the same prefix as in S3. An object is written under a temporary name and
 * renamed, so a reader never sees half of one.
 */
export class LocalAuditArchive {
  readonly #options: LocalAuditArchiveOptions;
  readonly #buffers = new Map<string, ArchivedLine[]>();
  readonly #failed: ArchivedEvent[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LocalAuditArchiveOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.flush(), this.#options.flushIntervalMs);
    this.#timer.unref();
  }

  /** The rules' lines of one event, buffered until the next flush. */
  accept(event: ArchivedEvent): void {
    let lines: ArchivedLine[];
    try {
      lines = archivedLinesOf(event);
    } catch {
      // A record the line shape refuses: Firehose would deliver it under the error prefix.
      this.#failed.push(event);
      return;
    }
    for (const line of lines) {
      const prefix = partitionPrefix(partitionOf(line));
      const buffer = this.#buffers.get(prefix);
      if (buffer) buffer.push(line);
      else this.#buffers.set(prefix, [line]);
    }
  }

  /** Lines buffered and not yet written. */
  get pending(): number {
    let count = this.#failed.length;
    for (const lines of this.#buffers.values()) count += lines.length;
    return count;
  }

  /** Writes every buffered partition; flushes run one after another. */
  flush(): Promise<void> {
    const run = this.#flushing.then(() => this.#write());
    this.#flushing = run.catch((error: unknown) => this.#options.onError?.(error));
    return this.#flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  async #write(): Promise<void> {
    const batches = [...this.#buffers.entries()];
    this.#buffers.clear();
    const failed = this.#failed.splice(0);
    const stamp = new Date().toISOString().slice(0, 19).replace('T', '-').replaceAll(':', '-');
    const objects = batches.map(([prefix, lines]) => ({ prefix, body: lines.map((l) => JSON.stringify(l)) }));
    if (failed.length > 0) {
      objects.push({
        prefix: `${ARCHIVE_ERRORS_PREFIX}processing-failed/${stamp.slice(0, 10)}/`,
        body: failed.map((event) => JSON.stringify(event)),
      });
    }
    for (const [index, { prefix, body }] of objects.entries()) {
      try {
        const folder = path.join(this.#options.dir, ...prefix.split('/').filter(Boolean));
        await mkdir(folder, { recursive: true, mode: 0o700 });
        const name = `${this.#options.streamName}-1-${stamp}-${randomUUID()}.gz`;
        const temporary = path.join(folder, `.${name}.partial`);
        await writeFile(temporary, await gzipped(`${body.join('\n')}\n`), { mode: 0o600 });
        await rename(temporary, path.join(folder, name));
      } catch (error) {
        // Kept for the next flush, as Firehose keeps retrying a delivery: nothing buffered is lost.
        for (const [prefixLeft, lines] of batches.slice(index)) {
          this.#buffers.set(prefixLeft, [...lines, ...(this.#buffers.get(prefixLeft) ?? [])]);
        }
        this.#failed.unshift(...failed);
        throw error;
      }
    }
  }
}
