import { assertBoundedJson } from '#shared/core/validation';
import type { ColumnInfo, TableInfo } from '#shared/data/catalog';
import { SYSTEM_COLUMNS } from '#shared/data/identifiers';
import { checkRowCount, type RowIssue, type RowOrigin } from '#shared/data/row-batch';
import { ValidationFailed } from '#shared/errors';
import {
  type CsvCellRead,
  CsvSyntaxError,
  csvCell,
  csvNumberText,
  FORMULA_CHARACTERS,
  readCsvRecords,
} from '#shared/exports/csv';
import type { SqlRow } from '#shared/ports/sql';

/**
 * A table's rows as files, for people moving data in and out: CSV (RFC 4180, a header row of
 * column names, formula-injection safe as the finance exports are, shared/exports/csv.ts) and
 * NDJSON (one JSON object a line). What an export writes, an import reads back to the same values:
 * see docs/tenant-data.md ("Files: export and import").
 */

export const ROW_FILE_FORMATS = ['csv', 'ndjson'] as const;
export type RowFileFormat = (typeof ROW_FILE_FORMATS)[number];

export const ROW_FILE_MEDIA_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson' } as const;
export const ROW_FILE_CONTENT_TYPES: Readonly<Record<RowFileFormat, string>> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/**
 * A text cell that an import would read as neutralised: `csvCell` prefixes `'` to a cell starting
 * with a formula character, and an import takes one `'` off such a cell. A text that itself starts
 * with quotes and a formula character gets one more quote, so that taking one off gives it back.
 */
const NEUTRALISED = new RegExp(`^'+[${FORMULA_CHARACTERS}]`);

function csvText(text: string): string {
  if (text === '') return '""'; // an empty cell is NULL
  return csvCell(NEUTRALISED.test(text) ? `'${text}` : text);
}

/** One value of `column` as a CSV cell (NULL is an empty cell, the empty text `""`). */
function csvValue(column: ColumnInfo, value: unknown): string {
  if (value === null || value === undefined) return '';
  switch (column.type.base) {
    case 'integer':
      return typeof value === 'number' ? csvCell(value) : csvText(String(value));
    case 'bigint':
    case 'numeric':
      return csvNumberText(String(value));
    case 'boolean':
      return value === true ? 'true' : 'false';
    case 'jsonb':
      return csvText(JSON.stringify(value));
    default:
      return csvText(String(value));
  }
}

/** The header line of a table's CSV: its column names, in table order. */
export const csvHeaderLine = (info: TableInfo) => `${info.columns.map((c) => csvCell(c.name)).join(',')}\r\n`;

/** One row as a line of the file, its line end included. */
export function rowLine(info: TableInfo, format: RowFileFormat, row: SqlRow): string {
  if (format === 'ndjson') {
    const object: Record<string, unknown> = {};
    for (const column of info.columns) object[column.name] = row[column.name] ?? null;
    return `${JSON.stringify(object)}\n`;
  }
  return `${info.columns.map((c) => csvValue(c, row[c.name])).join(',')}\r\n`;
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

/** The rows of a file as a batch takes them, where each came from, and what was wrong already. */
export interface FileRows {
  readonly rows: unknown[];
  readonly origins: RowOrigin[];
  readonly issues: RowIssue[];
}

const isSystem = (name: string) => (SYSTEM_COLUMNS as readonly string[]).includes(name);

/** A file-level problem (not CSV, no header, a bad header): a 400 naming where it is. */
function refuseFile(message: string, code: string, path = '', line?: number): never {
  throw new ValidationFailed(`Invalid file: ${message}; nothing was written`, {
    details: [{ location: 'body', path, code, message, ...(line === undefined ? {} : { line }) }],
  });
}

/** A parsed JSON value of a file, bounded as a JSON body is (depth, keys and items). */
function boundedJson(text: string): { value: unknown } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'is not valid JSON' };
  }
  try {
    assertBoundedJson(value, 'body');
  } catch (error) {
    if (error instanceof ValidationFailed)
      return { problem: error.message.replace(/^Invalid body: /, 'is ') };
    throw error;
  }
  return { value };
}

/** A CSV cell as the value of `column`, typed as its JSON would be, or what is wrong with it. */
function cellValue(column: ColumnInfo, cell: CsvCellRead): { value: unknown } | { problem: string } {
  if (!cell.quoted && cell.text === '') return { value: null };
  const text = NEUTRALISED.test(cell.text) ? cell.text.slice(1) : cell.text;
  switch (column.type.base) {
    case 'integer':
      return /^[+-]?\d{1,10}$/.test(text) ? { value: Number(text) } : { problem: 'must be an integer' };
    case 'boolean':
      return text === 'true' || text === 'false'
        ? { value: text === 'true' }
        : { problem: 'must be true or false' };
    case 'jsonb':
      return boundedJson(text);
    default:
      return { value: text };
  }
}

function csvRows(info: TableInfo, text: string): FileRows {
  let records: ReturnType<typeof readCsvRecords>;
  try {
    records = readCsvRecords(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError)
      refuseFile(`${error.message} (line ${error.line})`, 'invalid_csv', '', error.line);
    throw error;
  }
  const [header, ...data] = records;
  if (!header) refuseFile('a header row of column names is required', 'no_header');
  const byName = new Map(info.columns.map((c) => [c.name, c]));
  const seen = new Set<string>();
  const columns = header.cells.map((cell, i) => {
    const name = cell.text;
    if (seen.has(name))
      refuseFile(`column ${JSON.stringify(name)} is named twice`, 'duplicate_column', `header.${i}`, 1);
    seen.add(name);
    const column = byName.get(name);
    if (!column)
      refuseFile(
        `no column ${JSON.stringify(name)} in table ${info.name}`,
        'unknown_column',
        `header.${i}`,
        1,
      );
    return isSystem(name) ? null : column;
  });
  checkRowCount(data.length);
  const result: FileRows = { rows: [], origins: [], issues: [] };
  data.forEach((record, index) => {
    const issue = (path: string, code: string, message: string) =>
      result.issues.push({ location: 'body', path, code, message, row: index, line: record.line });
    result.origins.push({ line: record.line });
    const row: Record<string, unknown> = {};
    result.rows.push(row);
    if (record.cells.length !== columns.length) {
      issue(
        String(index),
        'cell_count',
        `has ${record.cells.length} cells; the header names ${columns.length}`,
      );
      return;
    }
    record.cells.forEach((cell, i) => {
      const column = columns[i];
      if (!column) return;
      const read = cellValue(column, cell);
      if ('problem' in read) issue(`${index}.${column.name}`, 'invalid_value', read.problem);
      else row[column.name] = read.value;
    });
  });
  return result;
}

function ndjsonRows(text: string): FileRows {
  const lines = text.split('\n').map((line, i) => ({ text: line.replace(/\r$/, ''), line: i + 1 }));
  const data = lines.filter((line) => line.text.trim() !== '');
  checkRowCount(data.length);
  const result: FileRows = { rows: [], origins: [], issues: [] };
  data.forEach(({ text: line, line: number }, index) => {
    result.origins.push({ line: number });
    const read = boundedJson(line);
    const value = 'value' in read ? read.value : undefined;
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      result.rows.push({});
      const message = 'problem' in read ? read.problem : 'must be a JSON object of column values';
      result.issues.push({
        location: 'body',
        path: String(index),
        code: 'invalid_line',
        message,
        row: index,
        line: number,
      });
      return;
    }
    result.rows.push(Object.fromEntries(Object.entries(value).filter(([name]) => !isSystem(name))));
  });
  return result;
}

/**
 * The rows of an import file. System columns (`id`, `created_at`, `updated_at`: an export writes
 * them) are left out; the database gives them, as to any insert. A problem of the file itself is a
 * 400 at once; problems of single rows are returned, to be reported with the rows' own.
 */
export function rowsOfFile(info: TableInfo, format: RowFileFormat, text: string): FileRows {
  return format === 'csv' ? csvRows(info, text) : ndjsonRows(text);
}

/**
 * How many data rows a file holds, for its audit record: never throws (a file that is not CSV
 * counts its lines after the header).
 */
export function rowCountOfFile(format: RowFileFormat, text: string): number {
  if (format === 'ndjson') return text.split('\n').filter((line) => line.trim() !== '').length;
  try {
    return Math.max(0, readCsvRecords(text).length - 1);
  } catch {
    return Math.max(0, text.split('\n').filter((line) => line.trim() !== '').length - 1);
  }
}
