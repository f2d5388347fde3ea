import type { ColumnInfo, TableInfo } from '#shared/data/catalog';
import { literal } from '#shared/data/column-types';
import { quoted } from '#shared/data/identifiers';
import { rowBytesSql } from '#shared/data/row-size';
import { selectList } from '#shared/data/row-statements';
import { type SqlParams, sqlJson } from '#shared/ports/sql';

/**
 * The SQL of a batch of rows. The rows travel as ONE jsonb parameter (`:rows`, an array of
 * `[index, {column: value}]`), unpacked in SQL: the statement text stays the same size whatever
 * the number of rows (the Data API takes at most 65 536 characters of SQL), there is one parameter
 * instead of one per value, and no array parameter (the Data API takes none). Every value was
 * checked by the table's insert schema before it is sent, and is cast to its column's type here.
 */

/** The rows of the `:rows` parameter, each with its index in the request and an id made for it. */
const INPUT = `input as materialized (
    select (e.value->>0)::integer as "n", gen_random_uuid() as "tenantry_id", e.value->1 as "r"
      from jsonb_array_elements(:rows::jsonb) as e)`;

/** A column's value in an input row `row`, cast to the column's type (JSON null is SQL NULL). */
function valueSql(column: ColumnInfo, row: string): string {
  const key = literal(column.name);
  return column.type.base === 'jsonb'
    ? `nullif(${row}->${key}, 'null'::jsonb)`
    : `(${row}->>${key})::${column.typeSql}`;
}

/** Whether an input row `row` names the column (with a value or with null). */
const hasKey = (column: ColumnInfo, row: string) => `(${row}->${literal(column.name)}) is not null`;

export const batchParams = (rows: readonly (readonly [number, Record<string, unknown>])[]): SqlParams => ({
  rows: sqlJson(rows),
});

/**
 * Inserts the rows of one shape (all naming exactly `columns`; the others take their defaults) in
 * request order, with ids made in the statement so that each written row is known by its index.
 * Answers one row whose `written` is a JSON array of `[n, id, bytes]` per row: its index, its id
 * and the size of its JSON (for the row cap). About 60 bytes a row whatever the rows hold, so the
 * answer stays far under the Data API's 1 MiB; one text field rather than three typed fields a
 * row, which the Data API would encode (and its client decode) one by one.
 */
export function batchInsertSql(info: TableInfo, columns: readonly ColumnInfo[]): string {
  const names = ['"id"', ...columns.map((c) => quoted(c.name))];
  const values = ['"tenantry_id"', ...columns.map((c) => valueSql(c, '"r"'))];
  return `with ${INPUT},
    written as (
      insert into ${quoted(info.name)} (${names.join(', ')})
      select ${values.join(', ')} from input order by "n"
      returning *)
    select coalesce(json_agg(json_build_array(input."n", written."id", ${rowBytesSql('written')})), '[]')::text
        as "written"
      from written join input on input."tenantry_id" = written."id"`;
}

/** The rows of `:ids` (a JSON array of ids), every column, as a single-row insert returns them. */
export const batchReadSql = (info: TableInfo) =>
  `select ${selectList(info)} from ${quoted(info.name)}
    where "id" in (select (jsonb_array_elements_text(:ids::jsonb))::uuid)`;

/**
 * The first row of the batch that breaks a constraint, found after the failed insert (the Data API
 * passes on the server's error without its Detail line, so the error alone cannot say which row):
 * one statement over the same `:rows`, answering `n` (null when no row can be named: a value that
 * comes from a default, an expression index).
 */
export type OffenderQuery = string | null;

const KEYS = (columns: readonly ColumnInfo[]) =>
  `keys as (select "n", "r", ${columns.map((c, i) => `${valueSql(c, '"r"')} as "k${i}"`).join(', ')}
      from input where ${columns.map((c) => hasKey(c, '"r"')).join(' and ')})`;
const allSet = (columns: readonly ColumnInfo[], alias: string) =>
  columns.map((_, i) => `${alias}."k${i}" is not null`).join(' and ');

/** A unique constraint on `columns`: a row whose key is in the table already, or earlier in the batch. */
export function uniqueOffenderSql(info: TableInfo, columns: readonly ColumnInfo[]): OffenderQuery {
  if (columns.length === 0) return null;
  const same = (alias: string) =>
    columns.map((c, i) => `${alias}.${quoted(c.name)} = k."k${i}"`).join(' and ');
  const earlier = columns.map((_, i) => `o."k${i}" = k."k${i}"`).join(' and ');
  return `with ${INPUT}, ${KEYS(columns)}
    select min(k."n") as "n" from keys k
     where ${allSet(columns, 'k')}
       and (exists (select 1 from ${quoted(info.name)} x where ${same('x')})
            or exists (select 1 from keys o where o."n" < k."n" and ${earlier}))`;
}

/**
 * A foreign key from `columns` to `referenced` of `target`: a row whose key is not there (nor, for
 * a table that refers to itself, in another row of the batch).
 */
export function foreignKeyOffenderSql(
  info: TableInfo,
  columns: readonly ColumnInfo[],
  target: TableInfo,
  referenced: readonly ColumnInfo[],
): OffenderQuery {
  if (columns.length === 0 || columns.length !== referenced.length) return null;
  const present = referenced.map((c, i) => `x.${quoted(c.name)} = k."k${i}"`).join(' and ');
  const inBatch =
    target.name === info.name
      ? `and not exists (select 1 from input o where ${referenced
          .map((c, i) => `${valueSql(c, 'o."r"')} = k."k${i}"`)
          .join(' and ')})`
      : '';
  return `with ${INPUT}, ${KEYS(columns)}
    select min(k."n") as "n" from keys k
     where ${allSet(columns, 'k')}
       and not exists (select 1 from ${quoted(target.name)} x where ${present})
       ${inBatch}`;
}

/** A `not null` column given null (JSON null in a jsonb column passes the insert schema). */
export function notNullOffenderSql(columns: readonly ColumnInfo[]): OffenderQuery {
  if (columns.length === 0) return null;
  const nulls = columns.map((c) => `(${hasKey(c, '"r"')} and ${valueSql(c, '"r"')} is null)`);
  return `with ${INPUT} select min("n") as "n" from input where ${nulls.join(' or ')}`;
}
