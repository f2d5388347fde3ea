import { createHash, type Hash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * A table's rows as NDJSON (one `row_to_json` text per line, in primary-key order), cut into
 * gzip-compressed parts of bounded size. Each part is a whole gzip stream of whole lines, so it
 * can be fetched, checked and loaded alone; the table's sha256 is over the uncompressed NDJSON of
 * all parts in order, which is deterministic because the lines come in primary-key order and
 * PostgreSQL renders a row's JSON the same way every time (session time zone pinned to UTC).
 */

/** 8 MiB of NDJSON before compression: a part loads in a few Data API calls and fits a Lambda's memory many times over. */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

export interface PartSummary {
  /** 1-based, in order. */
  readonly index: number;
  readonly rows: number;
  /** Uncompressed NDJSON bytes. */
  readonly bytes: number;
  readonly compressedBytes: number;
  /** Hex sha256 of the part's uncompressed NDJSON. */
  readonly sha256: string;
}

export interface TableSummary {
  readonly name: string;
  readonly rows: number;
  /** Uncompressed NDJSON bytes of the whole table. */
  readonly bytes: number;
  /** Hex sha256 of the whole table's uncompressed NDJSON (of nothing, for an empty table). */
  readonly sha256: string;
  readonly parts: readonly PartSummary[];
}

export interface Part extends PartSummary {
  /** The gzip-compressed part. */
  readonly body: Uint8Array;
}

/** Receives each finished part (stores it); called in order, one at a time. */
export type PartSink = (part: Part) => Promise<void>;

/** Collects lines into parts of at most `maxPartBytes` uncompressed (a single longer line makes a part alone). */
export class NdjsonParts {
  readonly #table: Hash = createHash('sha256');
  readonly #parts: PartSummary[] = [];
  #lines: Buffer[] = [];
  #partBytes = 0;
  #rows = 0;
  #bytes = 0;

  constructor(
    private readonly name: string,
    private readonly sink: PartSink,
    private readonly maxPartBytes = DEFAULT_PART_BYTES,
    /** False to only count and hash (verifying a restore): nothing is compressed nor kept. */
    private readonly compress = true,
  ) {
    if (!(maxPartBytes > 0)) throw new Error('maxPartBytes must be positive');
  }

  /** Adds one row's JSON text (no newline in it: PostgreSQL's JSON escapes them). */
  async add(json: string): Promise<void> {
    if (json.includes('\n')) throw new Error('an NDJSON line cannot contain a newline');
    const line = Buffer.from(`${json}\n`, 'utf8');
    if (this.#partBytes > 0 && this.#partBytes + line.length > this.maxPartBytes) await this.#flush();
    this.#lines.push(line);
    this.#partBytes += line.length;
    this.#table.update(line);
    this.#rows += 1;
    this.#bytes += line.length;
  }

  /** Flushes the last part and answers the table's summary. */
  async finish(): Promise<TableSummary> {
    if (this.#partBytes > 0) await this.#flush();
    return {
      name: this.name,
      rows: this.#rows,
      bytes: this.#bytes,
      sha256: this.#table.digest('hex'),
      parts: this.#parts,
    };
  }

  async #flush(): Promise<void> {
    const text = Buffer.concat(this.#lines);
    const body = this.compress ? await gzipAsync(text) : new Uint8Array();
    const summary: PartSummary = {
      index: this.#parts.length + 1,
      rows: this.#lines.length,
      bytes: text.length,
      compressedBytes: body.length,
      sha256: createHash('sha256').update(text).digest('hex'),
    };
    this.#lines = [];
    this.#partBytes = 0;
    await this.sink({ ...summary, body });
    this.#parts.push(summary);
  }
}

/** Why a stored part cannot be used; the caller names the table. */
export class PartUnreadable extends Error {
  constructor(
    readonly index: number,
    why: string,
  ) {
    super(`part ${index}: ${why}`);
    this.name = 'PartUnreadable';
  }
}

/** A stored part back into its lines, checked against its summary (bytes, sha256, row count). */
export async function readPart(body: Uint8Array, summary: PartSummary): Promise<string[]> {
  let text: Buffer;
  try {
    text = await gunzipAsync(body);
  } catch {
    throw new PartUnreadable(summary.index, 'not a readable gzip stream');
  }
  const sha256 = createHash('sha256').update(text).digest('hex');
  if (text.length !== summary.bytes || sha256 !== summary.sha256) {
    throw new PartUnreadable(summary.index, 'its checksum does not match the backup');
  }
  const lines = text.toString('utf8').split('\n');
  lines.pop(); // the text ends with a newline: the last element is empty
  if (lines.length !== summary.rows) throw new PartUnreadable(summary.index, 'its row count does not match');
  return lines;
}
