/**
 * What the data pages know of the API's column types and filter grammar (docs/tenant-data.md),
 * and how a form's text becomes the JSON value a column takes. Pure: no React, no DOM, so
 * test/unit/console-tenant-data.test.ts checks it against shared/data, where the API defines them.
 */

/** The types offered by the "New table" form: every simple type, and numeric(p,s) as one common case. */
export const COLUMN_TYPES = [
  'text',
  'integer',
  'bigint',
  'numeric',
  'numeric(12,2)',
  'boolean',
  'date',
  'timestamptz',
  'uuid',
  'jsonb',
] as const;

export type BaseType =
  | 'text'
  | 'integer'
  | 'bigint'
  | 'numeric'
  | 'boolean'
  | 'date'
  | 'timestamptz'
  | 'uuid'
  | 'jsonb';

/** `numeric(12,2)` → `numeric`; what describe answers is always one of the types above. */
export function baseType(typeSql: string): BaseType {
  if (typeSql.startsWith('numeric')) return 'numeric';
  return (COLUMN_TYPES as readonly string[]).includes(typeSql) ? (typeSql as BaseType) : 'text';
}

export const FILTER_OPERATORS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'like', 'is_null'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export const OPERATOR_LABELS: Record<FilterOperator, string> = {
  eq: 'equals',
  ne: 'does not equal',
  lt: 'less than',
  lte: 'at most',
  gt: 'greater than',
  gte: 'at least',
  in: 'one of (a,b,c)',
  like: 'matches (LIKE, % and _)',
  is_null: 'is empty',
};

/** The operators a column type takes (shared/data/row-query.ts operatorsFor). */
export function operatorsFor(type: BaseType): readonly FilterOperator[] {
  switch (type) {
    case 'jsonb':
      return ['is_null'];
    case 'boolean':
      return ['eq', 'ne', 'in', 'is_null'];
    case 'text':
      return FILTER_OPERATORS;
    default:
      return ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'is_null'];
  }
}

/** jsonb columns cannot be sorted. */
export const sortable = (type: BaseType) => type !== 'jsonb';

export interface RowFilter {
  readonly column: string;
  readonly operator: FilterOperator;
  readonly value: string;
}

export interface RowsQuery {
  readonly limit?: number;
  readonly cursor?: string;
  readonly sort?: string;
  readonly filter?: Readonly<Record<string, Readonly<Partial<Record<FilterOperator, string>>>>>;
}

/** Filters as the query's `filter` object (a later filter on the same column and operator wins). */
export function filterQuery(filters: readonly RowFilter[]): NonNullable<RowsQuery['filter']> {
  const filter: Record<string, Partial<Record<FilterOperator, string>>> = {};
  for (const f of filters) filter[f.column] = { ...filter[f.column], [f.operator]: f.value };
  return filter;
}

/**
 * `filter[column][operator]=value&sort=…`: openapi-fetch's default serializer writes one level of
 * deepObject only (`filter[column]=[object Object]`), so the rows list passes this one.
 */
export function rowsQueryString(query: RowsQuery | undefined): string {
  const search = new URLSearchParams();
  if (query?.limit !== undefined) search.set('limit', String(query.limit));
  if (query?.cursor) search.set('cursor', query.cursor);
  if (query?.sort) search.set('sort', query.sort);
  for (const [column, operators] of Object.entries(query?.filter ?? {}))
    for (const [operator, value] of Object.entries(operators))
      if (value !== undefined) search.set(`filter[${column}][${operator}]`, value);
  return search.toString();
}

/** How a column is entered in a row form. */
export type InputKind = 'number' | 'checkbox' | 'datetime' | 'date' | 'json' | 'text';

export function inputKind(type: BaseType): InputKind {
  switch (type) {
    case 'integer':
    case 'bigint':
    case 'numeric':
      return 'number';
    case 'boolean':
      return 'checkbox';
    case 'timestamptz':
      return 'datetime';
    case 'date':
      return 'date';
    case 'jsonb':
      return 'json';
    default:
      return 'text';
  }
}

/** A form field's content: text, or a checkbox's state. */
export type FormValue = string | boolean;

const pad = (n: number) => String(n).padStart(2, '0');

/** An ISO instant → a datetime-local value in the browser's zone (`2024-05-01T14:00:00`). */
export function localDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A value the API answered → what its form field shows. */
export function toFormValue(type: BaseType, value: unknown): FormValue {
  if (type === 'boolean') return value === true;
  if (value === null || value === undefined) return '';
  if (type === 'timestamptz') return localDateTime(String(value));
  if (type === 'jsonb') return JSON.stringify(value, null, 2);
  return String(value);
}

export type Converted = { readonly value: unknown } | { readonly problem: string } | { readonly omit: true };

/**
 * A form field → the JSON value the column takes: integer a number, bigint and numeric a string
 * (exact), boolean a boolean, timestamptz an ISO instant with its zone, jsonb the parsed JSON. An
 * empty field is left out of an insert (the column's default, or null) and is null in an edit. A
 * value the API would refuse is sent as it is, so that its message is the one shown.
 */
export function fromFormValue(type: BaseType, raw: FormValue, mode: 'insert' | 'edit'): Converted {
  if (typeof raw === 'boolean') return { value: raw };
  const text = type === 'text' || type === 'jsonb' ? raw : raw.trim();
  if (text === '') return mode === 'insert' ? { omit: true } : { value: null };
  switch (type) {
    case 'integer': {
      const n = Number(text);
      return { value: Number.isFinite(n) ? n : text };
    }
    case 'timestamptz': {
      const d = new Date(text);
      return { value: Number.isNaN(d.getTime()) ? text : d.toISOString() };
    }
    case 'jsonb':
      try {
        return { value: JSON.parse(text) };
      } catch {
        return { problem: 'not valid JSON' };
      }
    case 'boolean':
      return { value: text === 'true' };
    default:
      return { value: text };
  }
}

export interface WritableColumn {
  readonly name: string;
  readonly type: string;
}

/**
 * A row form's fields → the body of POST …/rows (every filled field) or PATCH …/rows/{rowId}
 * (the fields that changed from `initial`), and the fields that could not be converted.
 */
export function rowBody(
  columns: readonly WritableColumn[],
  values: Readonly<Record<string, FormValue>>,
  initial?: Readonly<Record<string, FormValue>>,
): { body: Record<string, unknown>; problems: Record<string, string> } {
  const body: Record<string, unknown> = {};
  const problems: Record<string, string> = {};
  for (const column of columns) {
    const type = baseType(column.type);
    const raw = values[column.name] ?? toFormValue(type, null);
    if (initial && raw === (initial[column.name] ?? toFormValue(type, null))) continue;
    const converted = fromFormValue(type, raw, initial ? 'edit' : 'insert');
    if ('problem' in converted) problems[column.name] = converted.problem;
    else if ('value' in converted) body[column.name] = converted.value;
  }
  return { body, problems };
}

/** A cell's text: JSON for objects, the value otherwise; null is empty. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** What the rows browser shows, kept in the page's URL so a view can be bookmarked or shared. */
export interface RowsView {
  readonly sort: { readonly column: string; readonly descending: boolean };
  readonly filters: readonly RowFilter[];
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export const DEFAULT_ROWS_VIEW: RowsView = {
  sort: { column: 'created_at', descending: false },
  filters: [],
  limit: 20,
};

/**
 * `?sort=-name&limit=5&cursor=…&f=age:gte:30&f=name:like:A%` → the view; anything it cannot
 * read (an unknown operator, a bad limit) falls back to the default, and the API judges the rest.
 */
export function rowsViewFrom(search: URLSearchParams, pageSizes: readonly number[]): RowsView {
  const sort = search.get('sort');
  const limit = Number(search.get('limit'));
  const filters: RowFilter[] = [];
  for (const raw of search.getAll('f')) {
    const [column = '', operator = '', ...rest] = raw.split(':');
    if (column && (FILTER_OPERATORS as readonly string[]).includes(operator))
      filters.push({ column, operator: operator as FilterOperator, value: rest.join(':') });
  }
  return {
    sort: sort
      ? { column: sort.replace(/^-/, ''), descending: sort.startsWith('-') }
      : DEFAULT_ROWS_VIEW.sort,
    filters,
    limit: pageSizes.includes(limit) ? limit : DEFAULT_ROWS_VIEW.limit,
    cursor: search.get('cursor') ?? undefined,
  };
}

/** The view as the URL's query (the default left out). */
export function rowsViewSearch(view: RowsView): URLSearchParams {
  const search = new URLSearchParams();
  const { sort } = view;
  if (sort.column !== DEFAULT_ROWS_VIEW.sort.column || sort.descending)
    search.set('sort', `${sort.descending ? '-' : ''}${sort.column}`);
  if (view.limit !== DEFAULT_ROWS_VIEW.limit) search.set('limit', String(view.limit));
  for (const f of view.filters) search.append('f', `${f.column}:${f.operator}:${f.value}`);
  if (view.cursor) search.set('cursor', view.cursor);
  return search;
}
