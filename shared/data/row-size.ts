/**
 * How large a tenant's row may be. Every row the API writes must be readable through the RDS Data
 * API, which refuses a result row over 64 KB ("Packet for query is too large … 64 KB per row in
 * the result set returned by the database") and a result over 1 MiB ("Database response exceeded
 * size limit"): https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html.
 * A write that passed the first limit's check only when read back would be written, then fail.
 */

/** The Data API's per-row limit, read conservatively as 64 000 bytes (not 65 536). */
export const DATA_API_MAX_ROW_BYTES = 64_000;

/**
 * The cap on a stored row: the UTF-8 size of its JSON (`row_to_json`, every column, system columns
 * included, names and all). That JSON is never smaller than what PostgreSQL sends for the row (a
 * length word and the text of each value, where JSON adds the name, quotes and separators), so a
 * row under the cap is under the Data API's limit with 6.6 KB to spare for what a page adds to
 * each row (its sort key, at most ~1 KB for a numeric; text keys are read from the row itself).
 */
export const MAX_ROW_BYTES = 56 * 1024;

/**
 * The SQLSTATE the cap's guard raises (division_by_zero). Plain SQL has no statement that raises an
 * error of one's choosing, and the guard must abort the very statement that writes (a row over the
 * cap is never committed, not even for a moment, and a write stays one round trip); a row
 * statement has no division of its own and its values are checked before they are bound, so
 * 22012 from one can only be the guard's.
 */
export const ROW_TOO_LARGE_SQLSTATE = '22012';

/** The UTF-8 size of a row's JSON, in SQL, for the row variable `row` (a table alias or CTE name). */
export const rowBytesSql = (row: string) => `octet_length(row_to_json(${row})::text)`;

/**
 * Wraps `insert … ` or `update … ` (without RETURNING) so that it returns `columns` of the written
 * row, and fails with ROW_TOO_LARGE_SQLSTATE, writing nothing, when that row's JSON is over the
 * cap. The cap travels as the parameter `:maxRowBytes` (see `rowCapParams`).
 */
export const cappedWriteSql = (write: string, columns: string) => `with written as (${write} returning *)
    select ${columns} from written
     where 1 / (case when ${rowBytesSql('written')} > :maxRowBytes then 0 else 1 end) = 1`;

export const rowCapParams = { maxRowBytes: MAX_ROW_BYTES } as const;

/** One row of `quotedTable` over the cap, if there is one (after a change of the table's columns). */
export const rowOverCapSql = (quotedTable: string) =>
  `select 1 as over from ${quotedTable} t where ${rowBytesSql('t')} > :maxRowBytes limit 1`;

/**
 * A default whose JSON alone is over the cap: no row could ever take it. (A row that takes a
 * default holds at least the default's JSON; jsonb prints with more spaces, never fewer.)
 */
export const defaultTooLarge = (value: unknown): boolean =>
  Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8') > MAX_ROW_BYTES;
