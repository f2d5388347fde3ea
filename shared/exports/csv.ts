/**
 * CSV that a spreadsheet opens cleanly: RFC 4180 (comma separated, CRLF line ends, fields with a
 * comma, quote, CR or LF quoted, quotes doubled) and safe from formula injection: a cell that
 * starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`, so a tenant
 * named `=HYPERLINK(...)` stays text. Numbers are written as numbers (a negative adjustment keeps
 * its sign); only strings are neutralised.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
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

/** Parses RFC 4180 text back into rows (for tests and for reading archived exports). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += char;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
