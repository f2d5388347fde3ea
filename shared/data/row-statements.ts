import type { ColumnInfo, TableInfo } from '#shared/data/catalog';
import { type ColumnType, castSql, toParam } from '#shared/data/column-types';
import { quoted } from '#shared/data/identifiers';
import { type Filter, parseRowListing, type RowListing, type RowsQuery } from '#shared/data/row-query';
import type { SqlParams, SqlRow } from '#shared/ports/sql';

/**
 * The SQL of row operations. Every value is a parameter with an explicit cast; every identifier
 * is a column the catalog listed, quoted.
 */

/**
 * Rows in a page stop once their JSON passes this many bytes (the Data API answers ≤ 1 MiB): with
 * rows of at most MAX_ROW_BYTES, a page is at most this much, or one row.
 */
export const MAX_PAGE_BYTES = 512 * 1024;

const COMPARISON: Record<string, string> = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' };

export const selectList = (table: TableInfo) => table.columns.map((c) => quoted(c.name)).join(', ');
const param = (name: string, type: ColumnType) => `:${name}::${castSql(type)}`;

/** The validated values of a write, as typed placeholders (`:v0::numeric`, …) and their parameters. */
export function bindValues(info: TableInfo, values: Record<string, unknown>) {
  const byName = new Map(info.columns.map((c) => [c.name, c]));
  const names = Object.keys(values).filter((name) => values[name] !== undefined);
  const params: Record<string, SqlParams[string]> = {};
  const placeholders = names.map((name, i) => {
    const column = byName.get(name) as ColumnInfo;
    params[`v${i}`] = toParam(column.type, values[name]);
    return param(`v${i}`, column.type);
  });
  return { names, placeholders, params };
}

function filterSql(filters: readonly Filter[], params: Record<string, SqlParams[string]>): string[] {
  return filters.map((filter, i) => {
    const column = quoted(filter.column.name);
    const name = `f${i}`;
    switch (filter.operator) {
      case 'is_null':
        return filter.value ? `${column} is null` : `${column} is not null`;
      case 'like':
        params[name] = filter.value as string;
        return `${column} like :${name}::text`;
      case 'in':
        params[name] = { json: (filter.value as unknown[]).map(String) };
        return `${column} in (select jsonb_array_elements_text(:${name}::jsonb)::${castSql(filter.column.type)})`;
      default:
        params[name] = toParam(filter.column.type, filter.value);
        return `${column} ${COMPARISON[filter.operator]} ${param(name, filter.column.type)}`;
    }
  });
}

/** A timestamptz as exact text: ISO 8601 in UTC to the microsecond (the port's reading keeps milliseconds). */
const exactTimestampSql = (name: string) =>
  `to_char(${name} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Every column, timestamps as exact text (`exactTimestampSql`): what a file export writes, so that
 * importing it gives back the same instants.
 */
export const exactSelectList = (table: TableInfo) =>
  table.columns
    .map((c) =>
      c.type.base === 'timestamptz'
        ? `${exactTimestampSql(quoted(c.name))} as ${quoted(c.name)}`
        : quoted(c.name),
    )
    .join(', ');

/**
 * The sort column as exact text for cursors (timestamps to the microsecond, in UTC). A text column
 * is its own key: it is read from the row (`sortKeyOf`) rather than sent twice, which could double
 * a page row to twice the row cap, over the Data API's per-row limit. Other keys are short (a
 * numeric, the longest, at most ~1 000 characters).
 */
function sortKeySql(column: ColumnInfo): string {
  const name = quoted(column.name);
  if (column.type.base === 'text') return 'null::text';
  if (column.type.base === 'timestamptz') return exactTimestampSql(name);
  if (column.type.base === 'date') return `to_char(${name}, 'YYYY-MM-DD')`;
  return `${name}::text`;
}

/**
 * One page, in one statement: filters, keyset after the cursor, `limit + 1` rows, then a running
 * total of each row's JSON size that cuts the page at `MAX_PAGE_BYTES` (at least one row is always
 * returned). Order: the sort column (ascending: nulls last; descending: nulls first), then `id` in
 * the same direction, so ties never repeat or skip a row. Columns named `tenantry_*` are the
 * page's own (sort key, sizes, total). `select` replaces the select list (an export's exact
 * timestamps), `maxBytes` the size cut.
 */
export function pageStatement(
  info: TableInfo,
  listing: RowListing,
  options: { readonly select?: string; readonly maxBytes?: number } = {},
): { sql: string; params: SqlParams } {
  const { filters, limit, sortColumn, direction, after } = listing;
  const params: Record<string, SqlParams[string]> = {
    limit: limit + 1,
    maxBytes: options.maxBytes ?? MAX_PAGE_BYTES,
  };
  const where = filterSql(filters, params);
  const s = quoted(sortColumn.name);
  const isId = sortColumn.name === 'id';
  const dir = direction === 'asc' ? 'asc' : 'desc';
  const order = isId
    ? `"id" ${dir}`
    : `${s} ${dir} ${direction === 'asc' ? 'nulls last' : 'nulls first'}, "id" ${dir}`;
  if (after) {
    params.cid = after[3];
    const cmp = direction === 'asc' ? '>' : '<';
    if (isId) where.push(`"id" ${cmp} :cid::uuid`);
    else if (after[2] === null) {
      where.push(
        direction === 'asc'
          ? `(${s} is null and "id" > :cid::uuid)`
          : `((${s} is null and "id" < :cid::uuid) or ${s} is not null)`,
      );
    } else {
      params.cv = after[2];
      const cv = `:cv::${castSql(sortColumn.type)}`;
      where.push(
        direction === 'asc'
          ? `(${s} > ${cv} or (${s} = ${cv} and "id" > :cid::uuid) or ${s} is null)`
          : `(${s} < ${cv} or (${s} = ${cv} and "id" < :cid::uuid))`,
      );
    }
  }
  const statement = `with page as (
      select ${options.select ?? selectList(info)}, ${sortKeySql(sortColumn)} as "tenantry_sort"
        from ${quoted(info.name)}
       ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
       order by ${order}
       limit :limit
    ), sized as (
      select page.*,
             sum(octet_length(row_to_json(page)::text)) over w as "tenantry_bytes",
             row_number() over w as "tenantry_n",
             count(*) over () as "tenantry_total"
        from page
      window w as (order by ${order} rows between unbounded preceding and current row)
    )
    select * from sized where "tenantry_n" = 1 or "tenantry_bytes" <= :maxBytes order by "tenantry_n"`;
  return { sql: statement, params: params as SqlParams };
}

/**
 * Benchmark hook: the page statement and its parameters for a table and a query, exactly as the
 * rows route runs them, so that the same statement can be timed directly with `pg`.
 */
export function rowPageStatement(info: TableInfo, query: RowsQuery): { sql: string; params: SqlParams } {
  return pageStatement(info, parseRowListing(info, query));
}

/** The sort key of a page's row, for the cursor after it (see `sortKeySql`). */
export function sortKeyOf(listing: RowListing, row: SqlRow): string | null {
  const key = listing.sortColumn.type.base === 'text' ? row[listing.sortColumn.name] : row.tenantry_sort;
  return (key as string | null | undefined) ?? null;
}

/** A page's row without the page's own columns. */
export function withoutPageColumns(row: SqlRow): SqlRow {
  const out: SqlRow = {};
  for (const [key, value] of Object.entries(row)) if (!key.startsWith('tenantry_')) out[key] = value;
  return out;
}
