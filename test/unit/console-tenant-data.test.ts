import { describe, expect, it } from 'vitest';
import { parseColumnType, SIMPLE_TYPES, valueSchema } from '#shared/data/column-types';
import { operatorsFor as apiOperatorsFor, FILTER_KEY, FILTER_OPERATORS } from '#shared/data/row-query';
import {
  baseType,
  COLUMN_TYPES,
  FILTER_OPERATORS as CONSOLE_OPERATORS,
  operatorsFor,
  rowBody,
  rowsQueryString,
  rowsViewFrom,
  rowsViewSearch,
  toFormValue,
} from '../../web/src/tenant-data.ts';

/** The console's copy of the column types and the filter grammar is the API's (shared/data). */
describe("the console's tenant-data rules", () => {
  it('offers every simple column type, each one the API parses, and the operators the API takes', () => {
    // Arrange
    const simple = COLUMN_TYPES.filter((t) => !t.includes('('));
    // Assert
    expect([...simple].sort()).toEqual([...SIMPLE_TYPES].sort());
    for (const type of COLUMN_TYPES) expect(parseColumnType(type), type).not.toBeNull();
    expect(CONSOLE_OPERATORS).toEqual(FILTER_OPERATORS);
    for (const type of COLUMN_TYPES) {
      const parsed = parseColumnType(type);
      if (parsed) expect(operatorsFor(baseType(type)), type).toEqual(apiOperatorsFor(parsed));
    }
  });

  it('writes filters as filter[column][operator], the keys the API parses', () => {
    // Act
    const query = rowsQueryString({
      limit: 2,
      sort: '-amount',
      filter: { amount: { gte: '10' }, status: { in: 'open,late' } },
    });
    // Assert
    const search = new URLSearchParams(query);
    expect(search.get('filter[amount][gte]')).toBe('10');
    expect(search.get('filter[status][in]')).toBe('open,late');
    expect(search.get('sort')).toBe('-amount');
    for (const key of search.keys()) if (key.startsWith('filter')) expect(key).toMatch(FILTER_KEY);
  });

  it("converts form fields to values each column's schema accepts", () => {
    // Arrange
    const columns = [
      { name: 'n', type: 'integer' },
      { name: 'big', type: 'bigint' },
      { name: 'amount', type: 'numeric(12,2)' },
      { name: 'done', type: 'boolean' },
      { name: 'at', type: 'timestamptz' },
      { name: 'meta', type: 'jsonb' },
      { name: 'note', type: 'text' },
    ];
    // Act
    const { body, problems } = rowBody(columns, {
      n: '42',
      big: '9007199254740993',
      amount: '12.50',
      done: true,
      at: '2024-05-01T12:00:00',
      meta: '{"a": [1, 2]}',
      note: '',
    });
    // Assert
    expect(problems).toEqual({});
    expect(body).not.toHaveProperty('note');
    for (const column of columns.filter((c) => c.name in body)) {
      const type = parseColumnType(column.type);
      if (!type) throw new Error(column.type);
      expect(valueSchema(type).safeParse(body[column.name]).success, column.name).toBe(true);
    }
    expect(body).toMatchObject({ n: 42, big: '9007199254740993', done: true, meta: { a: [1, 2] } });
  });

  it('an edit sends only the changed fields; an emptied field is null; bad JSON is refused before sending', () => {
    // Arrange
    const columns = [
      { name: 'n', type: 'integer' },
      { name: 'note', type: 'text' },
      { name: 'meta', type: 'jsonb' },
    ];
    const initial = { n: toFormValue('integer', 1), note: toFormValue('text', 'x'), meta: '' };
    // Act
    const edit = rowBody(columns, { n: '1', note: '', meta: '{' }, initial);
    // Assert
    expect(edit.body).toEqual({ note: null });
    expect(edit.problems).toEqual({ meta: 'not valid JSON' });
  });

  it('keeps the rows view in the URL and reads it back; what it cannot read falls back to the default', () => {
    const view = {
      sort: { column: 'quantity', descending: true },
      filters: [
        { column: 'reference', operator: 'like' as const, value: 'B:%' },
        { column: 'quantity', operator: 'gte' as const, value: '3' },
      ],
      limit: 5,
      cursor: 'abc',
    };
    const search = rowsViewSearch(view);
    expect(search.toString()).toBe(
      'sort=-quantity&limit=5&f=reference%3Alike%3AB%3A%25&f=quantity%3Agte%3A3&cursor=abc',
    );
    expect(rowsViewFrom(new URLSearchParams(search.toString()), [5, 20])).toEqual(view);
    expect(rowsViewFrom(new URLSearchParams('limit=7&f=age:drop:1&f=:eq:1'), [5, 20])).toEqual({
      sort: { column: 'created_at', descending: false },
      filters: [],
      limit: 20,
      cursor: undefined,
    });
    expect(rowsViewSearch(rowsViewFrom(new URLSearchParams(''), [5, 20])).toString()).toBe('');
  });
});
