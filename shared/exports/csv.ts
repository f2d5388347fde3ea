/**
 * CSV that a spreadsheet opens cleanly: RFC 4180 (comma separated, CRLF line ends, fields with a
 * comma, quote, CR or LF quoted, quotes doubled) and safe from formula injection: a cell that
 * starts with `=`, `+`, `-`, `@`, a tab, a carriage return or a NUL is prefixed with `'`, so a
 * tenant named `=HYPERLINK(...)` stays text (the characters of OWASP ASVS
 * 1.2.10, https://asvs.emil.hemdal.se/1.2.10, and CWE-1236). Numbers are written as numbers (a
 * negative adjustment keeps its sign); only strings are neutralised.
 */
/** The characters a spreadsheet may read as the start of a formula, for a RegExp character class. */
export const FORMULA_CHARACTERS = '=+\\-@\\t\\r\\0';
const FORMULA_START = new RegExp(`^[${FORMULA_CHARACTERS}]`);
const NEEDS_QUOTES = /[",\r\n]/;

export type CsvValue = string | number | null | undefined;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`Not a finite number: ${value}`);
    return String(value);
  }
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly CsvValue[]): string {
  return values.map(csvCell).join(',');
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [csvLine(header), ...rows.map(csvLine)].map((line) => `${line}\r\n`).join('');
}

/** An exact decimal (digits, an optional sign and fraction): a number, never a formula. */
const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/**
 * A number held as text (a bigint, a numeric: exact, whatever its size), written as the number it
 * is, as `csvCell` writes a JS number: `-12.50` stays a number to a spreadsheet, not neutralised.
 * Text that is not a plain decimal (`NaN`, `=1+1`) is written as `csvCell` writes any string.
 */
export function csvNumberText(text: string): string {
  return DECIMAL.test(text) ? text : csvCell(text);
}

/** A cell as read: its text, and whether it was quoted (so `""` can differ from an empty cell). */
export interface CsvCellRead {
  readonly text: string;
  readonly quoted: boolean;
}

export interface CsvRecord {
  readonly cells: readonly CsvCellRead[];
  /** The line (1-based) the record starts on. */
  readonly line: number;
}

/** Text that is not CSV: a stray or unclosed quote, at `line` (1-based). */
export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

/**
 * Reads RFC 4180 text into records, strictly: a quote inside an unquoted cell, anything but a
 * comma or a line end after a closing quote, or a quote left open is a `CsvSyntaxError`. Records
 * end with CRLF, or with LF alone (files from Unix tools); the last line end is optional, so every
 * other line, blank ones included, is a record.
 */
export function readCsvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let cells: CsvCellRead[] = [];
  let cell = '';
  let quoted = false;
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  const endCell = () => {
    cells.push({ text: cell, quoted });
    cell = '';
    quoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inQuotes) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') {
        inQuotes = false;
        const next = text[i + 1];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new CsvSyntaxError('text after a closing quote (quote the whole cell)', line);
        }
      } else {
        if (char === '\n') line++;
        cell += char;
      }
    } else if (char === '"') {
      if (cell !== '' || quoted) throw new CsvSyntaxError('a quote inside an unquoted cell', line);
      quoted = true;
      inQuotes = true;
    } else if (char === ',') endCell();
    else if (char === '\n' || (char === '\r' && text[i + 1] === '\n')) {
      if (char === '\r') i++;
      endCell();
      records.push({ cells, line: recordLine });
      cells = [];
      line++;
      recordLine = line;
    } else cell += char;
  }
  if (inQuotes) throw new CsvSyntaxError('a quoted cell is not closed', recordLine);
  if (cell !== '' || quoted || cells.length > 0) {
    endCell();
    records.push({ cells, line: recordLine });
  }
  return records;
}

/** Parses RFC 4180 text back into rows (for tests and for reading archived exports). */
export function parseCsv(text: string): string[][] {
  return readCsvRecords(text).map((record) => record.cells.map((cell) => cell.text));
}
