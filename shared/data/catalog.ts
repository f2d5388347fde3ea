import {
  type ColumnType,
  columnTypeFromCatalog,
  defaultFromCatalog,
  typeSql,
} from '#shared/data/column-types';
import { identifierProblem, SYSTEM_COLUMNS } from '#shared/data/identifiers';
import { NotFound } from '#shared/errors';
import type { SqlRunner } from '#shared/ports/sql';

/**
 * Table metadata, read from the tenant database's own catalog (pg_catalog): the one source of
 * truth. A module marks its tables with a table comment `tenantry:module=<id>`, so that the
 * catalog alone says which tables belong to a module.
 */
export interface ColumnInfo {
  readonly name: string;
  readonly type: ColumnType;
  readonly typeSql: string;
  readonly nullable: boolean;
  readonly unique: boolean;
  readonly hasDefault: boolean;
  /** The typed default as written (`now` for now()), or `{expression}` for other forms. */
  readonly default: unknown;
  readonly system: boolean;
}

export interface ForeignKeyInfo {
  readonly name: string;
  readonly columns: string[];
  readonly references: { readonly table: string; readonly columns: string[] };
  readonly onDelete: string;
}

export interface IndexInfo {
  readonly name: string;
  readonly columns: string[];
  readonly unique: boolean;
}

export interface TableInfo {
  readonly name: string;
  /** The module that made this table, from its comment; null for a tenant's own table. */
  readonly module: string | null;
  readonly columns: ColumnInfo[];
  readonly primaryKey: string[];
  readonly foreignKeys: ForeignKeyInfo[];
  readonly indexes: IndexInfo[];
  /** Approximate, from the planner's statistics (never a count(*)). */
  readonly estimatedRows: number;
}

const MODULE_COMMENT = /^tenantry:module=([a-z][a-z0-9_-]{0,39})$/;
export const moduleComment = (moduleId: string) => `tenantry:module=${moduleId}`;

const ON_DELETE: Record<string, string> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};

/*
 * One statement for a table's whole description: columns, constraints, indexes. Column lists of
 * constraints and indexes are built server-side (unnest with ordinality), no array parameters.
 */
const TABLE_QUERY = `
select c.relname as name,
       obj_description(c.oid, 'pg_class') as comment,
       greatest(c.reltuples, 0)::bigint as "estimatedRows",
       coalesce((
         select jsonb_agg(jsonb_build_object(
                  'name', a.attname,
                  'type', format_type(a.atttypid, a.atttypmod),
                  'nullable', not a.attnotnull,
                  'default', pg_get_expr(d.adbin, d.adrelid)) order by a.attnum)
           from pg_attribute a
           left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
          where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'::jsonb) as columns,
       coalesce((
         select jsonb_agg(jsonb_build_object(
                  'name', con.conname,
                  'kind', con.contype,
                  'onDelete', con.confdeltype,
                  'columns', (select jsonb_agg(att.attname order by k.ord)
                                from unnest(con.conkey) with ordinality k(attnum, ord)
                                join pg_attribute att on att.attrelid = con.conrelid and att.attnum = k.attnum),
                  'refTable', fc.relname,
                  'refColumns', (select jsonb_agg(att.attname order by k.ord)
                                   from unnest(con.confkey) with ordinality k(attnum, ord)
                                   join pg_attribute att on att.attrelid = con.confrelid and att.attnum = k.attnum))
                  order by con.conname)
           from pg_constraint con
           left join pg_class fc on fc.oid = con.confrelid
          where con.conrelid = c.oid and con.contype in ('p', 'u', 'f')), '[]'::jsonb) as constraints,
       coalesce((
         select jsonb_agg(jsonb_build_object(
                  'name', i.relname,
                  'unique', x.indisunique,
                  'columns', (select jsonb_agg(att.attname order by k.ord)
                                from unnest(x.indkey::int2[]) with ordinality k(attnum, ord)
                                join pg_attribute att on att.attrelid = x.indrelid and att.attnum = k.attnum))
                  order by i.relname)
           from pg_index x join pg_class i on i.oid = x.indexrelid
          where x.indrelid = c.oid), '[]'::jsonb) as indexes
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = current_schema() and c.relkind = 'r' and c.relname = :table`;

interface RawTable {
  name: string;
  comment: string | null;
  estimatedRows: string;
  columns: { name: string; type: string; nullable: boolean; default: string | null }[];
  constraints: {
    name: string;
    kind: 'p' | 'u' | 'f';
    onDelete: string;
    columns: string[] | null;
    refTable: string | null;
    refColumns: string[] | null;
  }[];
  indexes: { name: string; unique: boolean; columns: string[] | null }[];
}

function toTableInfo(raw: RawTable): TableInfo {
  const uniqueSingles = new Set(
    raw.constraints
      .filter((c) => (c.kind === 'u' || c.kind === 'p') && c.columns?.length === 1)
      .map((c) => c.columns?.[0] as string),
  );
  const columns: ColumnInfo[] = [];
  for (const column of raw.columns) {
    const type = columnTypeFromCatalog(column.type) ?? { base: 'text' as const };
    columns.push({
      name: column.name,
      type,
      typeSql: columnTypeFromCatalog(column.type) ? typeSql(type) : column.type,
      nullable: column.nullable,
      unique: uniqueSingles.has(column.name),
      hasDefault: column.default !== null,
      default: defaultFromCatalog(type, column.default),
      system: (SYSTEM_COLUMNS as readonly string[]).includes(column.name),
    });
  }
  return {
    name: raw.name,
    module: MODULE_COMMENT.exec(raw.comment ?? '')?.[1] ?? null,
    columns,
    primaryKey: raw.constraints.find((c) => c.kind === 'p')?.columns ?? [],
    foreignKeys: raw.constraints
      .filter((c) => c.kind === 'f')
      .map((c) => ({
        name: c.name,
        columns: c.columns ?? [],
        references: { table: c.refTable ?? '', columns: c.refColumns ?? [] },
        onDelete: ON_DELETE[c.onDelete] ?? 'no action',
      })),
    indexes: raw.indexes.map((i) => ({ name: i.name, unique: i.unique, columns: i.columns ?? [] })),
    estimatedRows: Number(raw.estimatedRows),
  };
}

/** The table as the catalog describes it, or null when there is none by that name. */
export async function readTable(sql: SqlRunner, table: string): Promise<TableInfo | null> {
  const [raw] = await sql.query<RawTable & Record<string, unknown>>(TABLE_QUERY, { table });
  return raw ? toTableInfo(raw) : null;
}

/** Tables of the database (tenantry_ tables hidden), by name; keyset on the name. */
export async function listTables(sql: SqlRunner, limit: number, after: string | null) {
  return sql.query<{ name: string; comment: string | null; estimatedRows: string }>(
    `select c.relname as name, obj_description(c.oid, 'pg_class') as comment,
            greatest(c.reltuples, 0)::bigint as "estimatedRows"
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind = 'r' and c.relname not like 'tenantry\\_%'
        and (:after::text is null or c.relname > :after::text)
      order by c.relname
      limit :limit`,
    { after, limit },
  );
}

/** How many tables `listTables` would list: the tenant's own and its modules' (a quota counts them). */
export async function countTables(sql: SqlRunner): Promise<number> {
  const [row] = await sql.query<{ tables: number }>(
    `select count(*)::int as tables
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind = 'r' and c.relname not like 'tenantry\\_%'`,
  );
  return row?.tables ?? 0;
}

export const moduleOfComment = (comment: string | null) => MODULE_COMMENT.exec(comment ?? '')?.[1] ?? null;

/**
 * A short-lived, per-process cache of table descriptions, so that a row page is one round trip.
 * DDL through this process invalidates at once; another process (another Lambda instance) sees a
 * change after at most `ttlMs`. A statement that then meets a changed table fails with an
 * undefined column, which the rows code turns into a 409 and an invalidation.
 */
export class TableMetadataCache {
  readonly #entries = new Map<string, { info: TableInfo | null; at: number }>();

  constructor(
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(databaseId: string, table: string, load: () => Promise<TableInfo | null>) {
    const key = `${databaseId}/${table}`;
    const hit = this.#entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.info;
    const info = await load();
    if (this.#entries.size > 1_000) this.#entries.clear();
    this.#entries.set(key, { info, at: this.now() });
    return info;
  }

  invalidate(databaseId: string, table?: string): void {
    if (table !== undefined) {
      this.#entries.delete(`${databaseId}/${table}`);
      return;
    }
    for (const key of this.#entries.keys()) if (key.startsWith(`${databaseId}/`)) this.#entries.delete(key);
  }
}

export const tableMetadata = new TableMetadataCache();

/**
 * The description of a tenant's table, from the cache or the catalog. Names tenants cannot have
 * made (system prefixes, bad patterns) are not found, like unknown ones.
 */
export async function existingTable(sql: SqlRunner, databaseId: string, table: string): Promise<TableInfo> {
  if (identifierProblem(table, 'table') !== null) throw new NotFound('Table not found');
  const info = await tableMetadata.get(databaseId, table, () => readTable(sql, table));
  if (!info) throw new NotFound('Table not found');
  return info;
}
