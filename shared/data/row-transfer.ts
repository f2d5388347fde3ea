import { existingTable } from '#shared/data/catalog';
import {
  type BatchOptions,
  type BatchResult,
  checkRows,
  insertCheckedRows,
  MAX_BATCH_BYTES,
  MAX_BATCH_ROWS,
} from '#shared/data/row-batch';
import { csvHeaderLine, type RowFileFormat, rowLine, rowsOfFile } from '#shared/data/row-files';
import { nextRowCursor, parseRowListing, type RowListing, rowsQuerySchema } from '#shared/data/row-query';
import { exactSelectList, sortKeyOf } from '#shared/data/row-statements';
import { pageRows } from '#shared/data/rows';
import { openTenantDatabase, type TenantDataDeps } from '#shared/data/tenant-database';
import type { SqlRow } from '#shared/ports/sql';

/**
 * Export and import of a table as a file (CSV or NDJSON, shared/data/row-files.ts). An export
 * answers one page of the table at a time, with a cursor for the next; every page is a file an
 * import takes as it is (at most MAX_BATCH_ROWS rows and MAX_BATCH_BYTES bytes), and an import is
 * a batch insert (shared/data/row-batch.ts): the same checks, limits and transaction.
 */

/**
 * One statement of an export reads rows up to this much JSON (a list page reads 512 KiB): with
 * jsonb text escaped once more and a field object per value, the Data API's answer stays under
 * its 1 MiB limit.
 */
const EXPORT_STATEMENT_BYTES = 384 * 1024;
/** …and at most this many values (columns × rows, the page's own four columns included). */
const EXPORT_STATEMENT_FIELDS = 8_000;

export interface ExportQuery {
  readonly format: RowFileFormat;
  readonly cursor?: string | undefined;
  readonly sort?: string | undefined;
}

export interface ExportPage {
  /** The file: a CSV page has its header row. */
  readonly text: string;
  readonly rows: number;
  /** Where the next page starts; null on the last one. */
  readonly nextCursor: string | null;
}

type After = NonNullable<RowListing['after']>;

/**
 * One page of the table as a file, in keyset order (the sort of `GET …/rows`, default
 * `created_at`, ties by id): rows are read in statements of the page query and written until the
 * page holds MAX_BATCH_ROWS rows or the next row would take it past MAX_BATCH_BYTES.
 */
export async function exportRows(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  query: ExportQuery,
): Promise<ExportPage> {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  const info = await existingTable(sql, databaseId, table);
  const perStatement = Math.max(1, Math.floor(EXPORT_STATEMENT_FIELDS / (info.columns.length + 4)));
  // The list grammar's own checks of sort and cursor; the limit is the export's, set per statement.
  const listing = parseRowListing(
    info,
    rowsQuerySchema.parse({
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      ...(query.sort === undefined ? {} : { sort: query.sort }),
    }),
  );
  const select = exactSelectList(info);
  const header = query.format === 'csv' ? csvHeaderLine(info) : '';
  const lines: string[] = [header];
  let bytes = Buffer.byteLength(header);
  let after: After | undefined = listing.after;
  const cursorAfter = (row: SqlRow): After => [
    listing.sortColumn.name,
    listing.direction,
    sortKeyOf(listing, row),
    row.id as string,
  ];
  for (;;) {
    const limit = Math.min(perStatement, MAX_BATCH_ROWS - (lines.length - 1));
    const { rows: kept, more } = await pageRows(
      sql,
      databaseId,
      info,
      { ...listing, limit, after },
      { select, maxBytes: EXPORT_STATEMENT_BYTES },
    );
    for (const row of kept) {
      const line = rowLine(info, query.format, row);
      const size = Buffer.byteLength(line);
      if (bytes + size > MAX_BATCH_BYTES && lines.length > 1) return pageOf(lines, after, listing);
      lines.push(line);
      bytes += size;
      after = cursorAfter(row);
      if (lines.length - 1 >= MAX_BATCH_ROWS) break;
    }
    if (!more) return { text: lines.join(''), rows: lines.length - 1, nextCursor: null };
    if (lines.length - 1 >= MAX_BATCH_ROWS) return pageOf(lines, after, listing);
  }
}

function pageOf(lines: readonly string[], after: After | undefined, listing: RowListing): ExportPage {
  return {
    text: lines.join(''),
    rows: lines.length - 1,
    nextCursor: after ? nextRowCursor(listing, after[2], after[3]) : null,
  };
}

/** `POST …/rows/import`: the rows of a CSV or NDJSON file, checked and inserted as one batch. */
export async function importRows(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  table: string,
  format: RowFileFormat,
  text: string,
  options: BatchOptions = {},
): Promise<BatchResult> {
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId);
  const info = await existingTable(sql, databaseId, table);
  const file = rowsOfFile(info, format, text);
  return insertCheckedRows(
    sql,
    databaseId,
    info,
    checkRows(info, file.rows, file.origins, file.issues),
    options,
  );
}
