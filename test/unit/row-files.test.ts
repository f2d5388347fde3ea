import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ColumnInfo, TableInfo } from '#shared/data/catalog';
import { type ColumnType, typeSql } from '#shared/data/column-types';
import { csvHeaderLine, rowLine, rowsOfFile } from '#shared/data/row-files';
import { ValidationFailed } from '#shared/errors';
import { CsvSyntaxError, csvCell, csvNumberText, parseCsv, readCsvRecords } from '#shared/exports/csv';

/**
 * Files of rows without a database: whatever a row holds, the line an export writes is read back
 * by an import to the same values (CSV and NDJSON), and no CSV cell starts with a formula.
 */

const column = (name: string, type: ColumnType, system = false): ColumnInfo => ({
  name,
  type,
  typeSql: typeSql(type),
  nullable: true,
  unique: false,
  hasDefault: system,
  default: undefined,
  system,
});

const TABLE: TableInfo = {
  name: 'things',
  module: null,
  columns: [
    column('id', { base: 'uuid' }, true),
    column('title', { base: 'text' }),
    column('qty', { base: 'integer' }),
    column('big', { base: 'bigint' }),
    column('amount', { base: 'numeric', precision: 12, scale: 2 }),
    column('flag', { base: 'boolean' }),
    column('day', { base: 'date' }),
    column('at', { base: 'timestamptz' }),
    column('doc', { base: 'jsonb' }),
  ],
  primaryKey: ['id'],
  foreignKeys: [],
  indexes: [],
  estimatedRows: 0,
};

/** Text made of the characters CSV and formula neutralisation care about. */
const trickyText = fc.string({
  unit: fc.constantFrom("'", '=', '+', '-', '@', '\t', '\r', '\0', '\n', '"', ',', ' ', 'a', 'é', '😀'),
  maxLength: 12,
});
const nullable = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: null });

/** A row as the SQL port reads it (what an export is given). */
const storedRow = fc.record({
  id: fc.uuid(),
  title: nullable(trickyText),
  qty: nullable(fc.integer({ min: -2147483648, max: 2147483647 })),
  big: nullable(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String)),
  amount: nullable(fc.integer({ min: -999_999_999, max: 999_999_999 }).map((n) => (n / 100).toFixed(2))),
  flag: nullable(fc.boolean()),
  day: nullable(fc.constantFrom('2024-02-29', '0001-01-01', '9999-12-31')),
  at: nullable(fc.constantFrom('2024-05-01T12:34:56.123456Z', '1970-01-01T00:00:00.000000Z')),
  // JSON null is SQL NULL in a jsonb column: a stored jsonb value is never JSON null.
  doc: nullable(fc.jsonValue({ maxDepth: 3 }).filter((v) => v !== null)).map((v) =>
    v === null ? null : JSON.parse(JSON.stringify(v)),
  ),
});

const userPart = (row: Record<string, unknown>) => {
  const { id: _id, ...rest } = row;
  return rest;
};

describe('row files', () => {
  it('read back every exported CSV row to the same values, and write no cell a spreadsheet runs', () => {
    fc.assert(
      fc.property(fc.array(storedRow, { minLength: 1, maxLength: 8 }), (rows) => {
        const text = csvHeaderLine(TABLE) + rows.map((row) => rowLine(TABLE, 'csv', row)).join('');
        const file = rowsOfFile(TABLE, 'csv', text);
        expect(file.issues).toEqual([]);
        expect(file.rows).toEqual(rows.map(userPart));
        for (const record of parseCsv(text).slice(1)) {
          for (const cell of record) expect(cell).not.toMatch(/^[=+@\t\r\0]|^-(?!\d+(\.\d+)?$)/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('read back every exported NDJSON row to the same values', () => {
    fc.assert(
      fc.property(fc.array(storedRow, { minLength: 1, maxLength: 8 }), (rows) => {
        const text = rows.map((row) => rowLine(TABLE, 'ndjson', row)).join('');
        const file = rowsOfFile(TABLE, 'ndjson', text);
        expect(file.issues).toEqual([]);
        expect(file.rows).toEqual(rows.map(userPart));
      }),
      { numRuns: 200 },
    );
  });

  it('tells NULL (an empty cell) from the empty text ("")', () => {
    const text = `${csvHeaderLine(TABLE)}${rowLine(TABLE, 'csv', { title: '' })}${rowLine(TABLE, 'csv', { title: null })}`;
    expect(text.split('\r\n')[1]).toBe(',"",,,,,,,');
    expect(rowsOfFile(TABLE, 'csv', text).rows.map((r) => (r as { title: unknown }).title)).toEqual([
      '',
      null,
    ]);
  });

  it('names the data line and the row of a cell it cannot read, and refuses a header it does not know', () => {
    const file = rowsOfFile(TABLE, 'csv', 'title,qty\r\n"a\nb",1\r\nc,x\r\n');
    expect(file.issues).toEqual([expect.objectContaining({ path: '1.qty', row: 1, line: 4 })]);
    expect(() => rowsOfFile(TABLE, 'csv', 'title,nope\r\n')).toThrow(ValidationFailed);
    expect(() => rowsOfFile(TABLE, 'csv', 'title,title\r\nx,y\r\n')).toThrow(/named twice/);
    expect(() => rowsOfFile(TABLE, 'csv', '')).toThrow(/header/);
  });
});

describe('CSV reader', () => {
  it('keeps quoting, reads CRLF and LF line ends, and counts lines inside quoted cells', () => {
    const records = readCsvRecords('a,"",\n"x\r\ny",b\r\nlast');
    expect(records.map((r) => r.line)).toEqual([1, 2, 4]);
    expect(records[0]?.cells).toEqual([
      { text: 'a', quoted: false },
      { text: '', quoted: true },
      { text: '', quoted: false },
    ]);
    expect(records[1]?.cells[0]?.text).toBe('x\r\ny');
    expect(parseCsv('a,b\r\n1,x\r\n')).toEqual([
      ['a', 'b'],
      ['1', 'x'],
    ]);
  });

  it('refuses stray and unclosed quotes, naming the line', () => {
    for (const [text, line] of [
      ['a\r\nb"c', 2],
      ['a\r\n"b"c', 2],
      ['a\r\n\r\n"open', 3],
    ] as const) {
      let error: unknown;
      try {
        readCsvRecords(text);
      } catch (caught) {
        error = caught;
      }
      expect(error, text).toBeInstanceOf(CsvSyntaxError);
      expect((error as CsvSyntaxError).line, text).toBe(line);
    }
  });

  it('writes decimals held as text as numbers, and anything else as neutralised text', () => {
    expect(csvNumberText('-12.50')).toBe('-12.50');
    expect(csvNumberText('-9223372036854775808')).toBe('-9223372036854775808');
    expect(csvNumberText('-1+1')).toBe(csvCell('-1+1'));
    expect(csvNumberText('-1+1')).toBe("'-1+1");
  });
});
