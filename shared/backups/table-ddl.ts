import type { SqlRunner } from '#shared/ports/sql';

/**
 * A table's DDL, rebuilt from its database's own catalog (pg_catalog), for tenants' tables and
 * modules' tables alike: columns with their exact types (`format_type`), collations other than
 * the type's, defaults (`pg_get_expr`), NOT NULL, the primary key and unique, check and exclusion
 * constraints (`pg_get_constraintdef`), the table comment (a module's `tenantry:module=<id>`
 * marker), indexes that no constraint owns (`pg_get_indexdef`), and foreign keys apart, to be
 * added once every table of the database is loaded (a table may refer to one restored later, or
 * to itself). Every identifier is quoted by PostgreSQL (`format('%I')`), so names that need
 * quoting (upper case, spaces, quotes, reserved words) come back exactly.
 * https://www.postgresql.org/docs/current/functions-info.html#FUNCTIONS-INFO-CATALOG
 */
export interface TableDdl {
  /** The table's name as the catalog has it (unquoted). */
  readonly name: string;
  /** The name quoted for SQL. */
  readonly quotedName: string;
  /** `create table …` with columns and the primary key, unique, check and exclusion constraints. */
  readonly create: string;
  /** `comment on table …`, or null when the table has no comment. */
  readonly comment: string | null;
  /** `create index …` for indexes that back no constraint (built after the rows are loaded). */
  readonly indexes: readonly string[];
  /** `alter table … add constraint … foreign key …`, to run once every table is loaded. */
  readonly foreignKeys: readonly string[];
  /** The primary key's columns, quoted, in key order: the keyset of the dump. */
  readonly primaryKey: readonly string[];
  /** `'name', t."name"` pairs for `json_build_object`: a page's last key, exact whatever its type. */
  readonly keyObjectArgs: string;
  /**
   * The dump's select list over `t`, every column in order: json, jsonb (and arrays of them) as
   * their text, so that their JSON `null` and SQL NULL stay apart in the NDJSON and json keeps
   * its exact text (whitespace, key order, duplicate keys).
   */
  readonly dumpColumns: string;
  /** The column definitions of `json_to_recordset` that read a dumped line back (json as text). */
  readonly loadColumns: string;
  /** The insert's column list, quoted. */
  readonly insertColumns: string;
  /** The insert's values over `x` (the loaded record), json texts cast back to their type. */
  readonly insertValues: string;
}

/** A table the engine cannot back up faithfully; the message says which and why. */
export class TableNotBackedUp extends Error {
  constructor(
    readonly table: string,
    why: string,
  ) {
    super(`table ${JSON.stringify(table)}: ${why}`);
    this.name = 'TableNotBackedUp';
  }
}

/*
 * One statement, text and jsonb results only (types the Data API returns). Indexes that back a
 * constraint of this table (its primary key, unique or exclusion constraints) are made by the
 * constraint; a foreign key's conindid is the *referenced* table's index, hence the conrelid test.
 */
const DDL_QUERY = `
select c.relname as name,
       format('%I', c.relname) as "quotedName",
       (select string_agg(
                 format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod))
                 || case when a.attcollation <> 0 and a.attcollation <> ty.typcollation
                         then ' collate ' || format('%I', co.collname) else '' end
                 || case when a.attnotnull then ' not null' else '' end
                 || case when d.adbin is not null then ' default ' || pg_get_expr(d.adbin, d.adrelid) else '' end,
                 ', ' order by a.attnum)
          from pg_attribute a
          join pg_type ty on ty.oid = a.atttypid
          left join pg_collation co on co.oid = a.attcollation
          left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
         where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
       coalesce((select jsonb_agg(format('constraint %I %s', con.conname, pg_get_constraintdef(con.oid))
                                  order by con.contype <> 'p', con.conname)
                   from pg_constraint con
                  where con.conrelid = c.oid and con.contype in ('p', 'u', 'c', 'x')), '[]'::jsonb) as constraints,
       coalesce((select jsonb_agg(format('alter table %I add constraint %I %s',
                                         c.relname, con.conname, pg_get_constraintdef(con.oid))
                                  order by con.conname)
                   from pg_constraint con
                  where con.conrelid = c.oid and con.contype = 'f'), '[]'::jsonb) as "foreignKeys",
       coalesce((select jsonb_agg(pg_get_indexdef(x.indexrelid) order by i.relname)
                   from pg_index x join pg_class i on i.oid = x.indexrelid
                  where x.indrelid = c.oid
                    and not exists (select 1 from pg_constraint k
                                     where k.conindid = x.indexrelid and k.conrelid = c.oid)), '[]'::jsonb) as indexes,
       case when obj_description(c.oid, 'pg_class') is not null
            then format('comment on table %I is %L', c.relname, obj_description(c.oid, 'pg_class')) end as comment,
       coalesce((select jsonb_agg(format('%I', a.attname) order by k.ord)
                   from pg_constraint p
                   cross join unnest(p.conkey) with ordinality k(attnum, ord)
                   join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
                  where p.conrelid = c.oid and p.contype = 'p'), '[]'::jsonb) as "primaryKey",
       (select string_agg(format('%L, t.%I', a.attname, a.attname), ', ' order by k.ord)
          from pg_constraint p
          cross join unnest(p.conkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
         where p.conrelid = c.oid and p.contype = 'p') as "keyObjectArgs",
       (select string_agg(format('%I', a.attname), ', ')
          from pg_attribute a
         where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
           and (a.attidentity <> '' or a.attgenerated <> ''
                or exists (select 1 from pg_attrdef d
                            where d.adrelid = a.attrelid and d.adnum = a.attnum
                              and pg_get_expr(d.adbin, d.adrelid) like '%nextval(%'))) as "generatedColumns",
       cols."dumpColumns", cols."loadColumns", cols."insertColumns", cols."insertValues"
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  cross join lateral (
    select string_agg(case when a.jsonish then format('t.%I::text as %I', a.attname, a.attname)
                           else format('t.%I', a.attname) end, ', ' order by a.attnum) as "dumpColumns",
           string_agg(format('%I %s', a.attname, case when a.jsonish then 'text' else a.type end), ', '
                      order by a.attnum) as "loadColumns",
           string_agg(format('%I', a.attname), ', ' order by a.attnum) as "insertColumns",
           string_agg(case when a.jsonish then format('x.%I::%s', a.attname, a.type)
                           else format('x.%I', a.attname) end, ', ' order by a.attnum) as "insertValues"
      from (select at.attname, at.attnum, format_type(at.atttypid, at.atttypmod) as type,
                   ty.typname in ('json', 'jsonb', '_json', '_jsonb') as jsonish
              from pg_attribute at join pg_type ty on ty.oid = at.atttypid
             where at.attrelid = c.oid and at.attnum > 0 and not at.attisdropped) a) cols
 where n.nspname = current_schema() and c.relkind = 'r' and c.relname = :table`;

interface RawDdl {
  name: string;
  quotedName: string;
  columns: string | null;
  constraints: string[];
  foreignKeys: string[];
  indexes: string[];
  comment: string | null;
  primaryKey: string[];
  keyObjectArgs: string | null;
  generatedColumns: string | null;
  dumpColumns: string | null;
  loadColumns: string | null;
  insertColumns: string | null;
  insertValues: string | null;
}

/** The table's DDL from the catalog, or null when the database has no such table. */
export async function tableDdl(sql: SqlRunner, table: string): Promise<TableDdl | null> {
  const [raw] = await sql.query<RawDdl & Record<string, unknown>>(DDL_QUERY, { table });
  if (!raw) return null;
  // Identity, generated and sequence-filled columns would refuse the dump's explicit values,
  // recompute them, or need a sequence the DDL does not carry: tenants' and modules' tables have
  // none, so refusing keeps the guarantee "restored identical".
  if (raw.generatedColumns) {
    throw new TableNotBackedUp(table, `identity, generated or sequence columns (${raw.generatedColumns})`);
  }
  // The keyset needs a primary key; every tenant and module table has `id` (SYSTEM_COLUMN_DDL).
  if (raw.primaryKey.length === 0 || !raw.keyObjectArgs) throw new TableNotBackedUp(table, 'no primary key');
  // A table with a primary key has a column, so these are set; checked for the type's sake.
  const { dumpColumns, loadColumns, insertColumns, insertValues } = raw;
  if (!dumpColumns || !loadColumns || !insertColumns || !insertValues) {
    throw new TableNotBackedUp(table, 'no columns');
  }
  const definitions = [...(raw.columns ? [raw.columns] : []), ...raw.constraints];
  return {
    name: raw.name,
    quotedName: raw.quotedName,
    create: `create table ${raw.quotedName} (${definitions.join(', ')})`,
    comment: raw.comment,
    indexes: raw.indexes,
    foreignKeys: raw.foreignKeys,
    primaryKey: raw.primaryKey,
    keyObjectArgs: raw.keyObjectArgs,
    dumpColumns,
    loadColumns,
    insertColumns,
    insertValues,
  };
}
