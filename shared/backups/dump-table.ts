import {
  DEFAULT_PART_BYTES,
  NdjsonParts,
  type PartSink,
  type TableSummary,
} from '#shared/backups/ndjson-parts';
import type { TableDdl } from '#shared/backups/table-ddl';
import type { SqlRunner } from '#shared/ports/sql';

/**
 * Reads one table through the SQL port (the Data API in AWS, as the tenant's own role), page by
 * page on its primary key, into NDJSON parts (ndjson-parts.ts). Each line is the row's
 * `row_to_json`, which keeps every value exactly: numeric with all its digits, timestamptz to the
 * microsecond (as an instant with its offset), bytea as `\x` hex, arrays as JSON arrays (NULL
 * elements as null). json and jsonb columns are written as their text (a JSON string): as JSON
 * values, a jsonb `null` and an SQL NULL would both be `null` and come back as NULL, and a json
 * value's whitespace and duplicate keys would be at the mercy of the reader. (jsonb itself keeps
 * only the last of duplicate keys and orders keys by length, then bytes: that is its value, and
 * it round-trips as such; json keeps the text as written.) Read back with `json_to_recordset`
 * (restore-table.ts) each value goes through its type's own input function, so it comes back
 * identical; the restore's re-dump proves it with the same sha256.
 *
 * The Data API limits every call: "The response size limit is 1 MiB" and "64 KB per row in the
 * result set" (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html;
 * the errors: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html).
 * So:
 * - a row's JSON is sent in chunks of CHUNK_CHARS characters, one result row each. A row under
 *   the API's cap (57 344 bytes of JSON, shared/data/row-size.ts) could otherwise pass 64 KB once
 *   the Data API escapes it as a JSON string (every `"` becomes `\"`). 4 096 characters are at
 *   most 16 KiB of UTF-8, at most 48 KiB even if every character were sent as `\uXXXX` escapes;
 * - a page holds at most `pageRows` rows and `pageBytes` bytes of row JSON (the first row of a
 *   page always, so a page always moves on). 300 000 bytes stay under 1 MiB even tripled by
 *   escaping (the worst case above), with ~100 KB left for the per-chunk framing of 1 000 rows.
 * Rows over `pageBytes` of JSON (impossible through the API; see the row cap) would make a call
 * the Data API refuses: the dump then fails with its error rather than skipping the row.
 */
export const CHUNK_CHARS = 4_096;

export interface DumpLimits {
  /** Rows per page (one Data API call) at most. */
  readonly pageRows: number;
  /** Bytes of row JSON (UTF-8) per page at most, beyond a page's first row. */
  readonly pageBytes: number;
  /** Uncompressed bytes of NDJSON per part at most. */
  readonly partBytes: number;
}

export const DUMP_LIMITS: DumpLimits = { pageRows: 1_000, pageBytes: 300_000, partBytes: DEFAULT_PART_BYTES };

/**
 * Pins what decides how `row_to_json` renders a value, for this transaction only: the time zone
 * (timestamptz are rendered with the session's offset), bytea's output format and the interval
 * style. Dumps of the same rows in two databases with other defaults then hash the same. One
 * statement, `set_config(…, true)` being `SET LOCAL`.
 * https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-SET
 */
export async function pinRendering(tx: SqlRunner): Promise<void> {
  await tx.query(
    `select set_config('TimeZone', 'UTC', true) as tz, set_config('bytea_output', 'hex', true) as bytea,
            set_config('IntervalStyle', 'postgres', true) as intervals,
            set_config('extra_float_digits', '1', true) as floats`,
  );
}

/**
 * Runs `work` in one read-only, repeatable-read transaction with the rendering pinned: every page
 * of every table it dumps sees the same snapshot, so a backup is consistent even while the
 * tenant keeps writing. (A Data API transaction ends after 3 minutes unused or 24 hours in all,
 * https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BeginTransaction.html;
 * a dump uses it continuously.) Call it on a runner that is not already in a transaction:
 * the isolation level must be the transaction's first statement.
 */
export async function inBackupSnapshot<T>(sql: SqlRunner, work: (tx: SqlRunner) => Promise<T>): Promise<T> {
  return sql.transaction(async (tx) => {
    await tx.execute('set transaction isolation level repeatable read, read only');
    await pinRendering(tx);
    return work(tx);
  });
}

/*
 * One page: up to :rows rows after the last key, cut where their JSON passes :budget bytes,
 * each row's JSON in CHUNK_CHARS chunks (`i` = 0 starts a row). The last row's first chunk also
 * carries its key (as JSON: exact for any key type, read back by json_populate_record) and
 * whether this was the last page. Primary-key columns are qualified (`t.`): a key column named
 * like an output column (`key`, `line`) must not be confused with it in ORDER BY.
 */
function pageSql(ddl: TableDdl, first: boolean): string {
  const key = ddl.primaryKey.map((column) => `t.${column}`).join(', ');
  const bound = ddl.primaryKey.map((column) => `k.${column}`).join(', ');
  const after = first
    ? ''
    : `where (${key}) > (select ${bound} from json_populate_record(null::${ddl.quotedName}, :after::json) k)`;
  return `with page as (
    select row_to_json(s)::text as line, json_build_object(${ddl.keyObjectArgs})::text as key,
           row_number() over (order by ${key}) as n
      from ${ddl.quotedName} t
      cross join lateral (select ${ddl.dumpColumns}) s ${after}
     order by ${key}
     limit :rows),
  sized as (select line, key, n, sum(octet_length(line)) over (order by n) as upto from page),
  kept as (select line, key, n from sized where upto <= :budget or n = 1),
  tally as (select (select max(n) from kept) as last, (select count(*) from kept) as kept,
                   (select count(*) from page) as read)
  select c.i::int as i, substr(k.line, c.i * ${CHUNK_CHARS} + 1, ${CHUNK_CHARS}) as chunk,
         case when c.i = 0 and k.n = tally.last then k.key end as key,
         case when c.i = 0 and k.n = tally.last then tally.kept = tally.read and tally.read < :rows end as done
    from kept k
    cross join tally
    cross join lateral generate_series(0, greatest(length(k.line) - 1, 0) / ${CHUNK_CHARS}) c(i)
   order by k.n, c.i`;
}

interface Chunk extends Record<string, unknown> {
  i: number;
  chunk: string;
  key: string | null;
  done: boolean | null;
}

/** Reassembles a page's chunks into rows' JSON, with the last key and whether the table is done. */
function rowsOfPage(chunks: readonly Chunk[]): { lines: string[]; after: string | null; done: boolean } {
  const lines: string[] = [];
  let after: string | null = null;
  let done = chunks.length === 0;
  for (const chunk of chunks) {
    if (chunk.i === 0) lines.push(chunk.chunk);
    else lines[lines.length - 1] += chunk.chunk;
    if (chunk.key !== null) {
      after = chunk.key;
      done = chunk.done === true;
    }
  }
  return { lines, after, done };
}

/**
 * How many rows the next page asks for, after one that asked `asked` and kept `kept`. A page
 * renders every row it reads (`row_to_json`) before the byte budget cuts it, and the rows cut are
 * read again by the next page: asking for `pageRows` every time, a table of 3 KB rows (about 90 fit
 * 300 000 bytes) rendered eleven rows for every one it kept, and rows near the API's cap hundreds.
 * So after a cut page the next asks for what fitted plus a tenth; after a page that was not cut,
 * twice as many, up to `pageRows`.
 */
export function nextPageRows(asked: number, kept: number, pageRows: number): number {
  if (kept < asked) return Math.min(pageRows, kept + Math.ceil(kept / 10));
  return Math.min(pageRows, asked * 2);
}

export interface DumpOptions {
  readonly limits?: Partial<DumpLimits>;
  /** False to only count and hash (a restore's verification): no part is compressed. */
  readonly compress?: boolean;
}

/**
 * Dumps the table described by `ddl` on `tx`, a runner already in a backup snapshot
 * (`inBackupSnapshot`, or a restore's own transaction after `pinRendering`).
 */
export async function dumpTableIn(
  tx: SqlRunner,
  ddl: TableDdl,
  sink: PartSink,
  options: DumpOptions = {},
): Promise<TableSummary> {
  const limits = { ...DUMP_LIMITS, ...options.limits };
  const parts = new NdjsonParts(ddl.name, sink, limits.partBytes, options.compress ?? true);
  let after: string | null = null;
  let rows = limits.pageRows;
  for (;;) {
    const params = { rows, budget: limits.pageBytes, ...(after === null ? {} : { after }) };
    const page = rowsOfPage(await tx.query<Chunk>(pageSql(ddl, after === null), params));
    for (const line of page.lines) await parts.add(line);
    if (page.done || page.after === null) break;
    after = page.after;
    rows = nextPageRows(rows, page.lines.length, limits.pageRows);
  }
  return parts.finish();
}

/** Dumps one table in a snapshot of its own (a backup of several tables shares one: `inBackupSnapshot`). */
export async function dumpTable(
  sql: SqlRunner,
  ddl: TableDdl,
  sink: PartSink,
  options: DumpOptions = {},
): Promise<TableSummary> {
  return inBackupSnapshot(sql, (tx) => dumpTableIn(tx, ddl, sink, options));
}
