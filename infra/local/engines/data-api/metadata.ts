/**
 * `columnMetadata` for `includeResultMetadata: true`: the ColumnMetadata structure of the API
 * reference (name, type, typeName, label, schemaName, tableName, isAutoIncrement, isSigned,
 * isCurrency, isCaseSensitive, nullable, precision, scale, arrayBaseColumnType).
 * https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ColumnMetadata.html
 * `typeName` is PostgreSQL's `typname` (`int4`, `timestamptz`, `_text`), and `serial`/`bigserial`/
 * `smallserial` for a column filled from a sequence, as the JDBC driver behind the Data API names
 * them (the Data API lists SERIAL among the types it returns). `type` is the java.sql.Types code.
 */
import pg from 'pg';
import { jdbcElementTypeOf, jdbcTypeOf, precisionAndScale, type TypeInfo } from './type-catalog.ts';

export interface ColumnMetadata {
  name: string;
  type: number;
  typeName: string;
  label: string;
  schemaName: string;
  tableName: string;
  isAutoIncrement: boolean;
  isSigned: boolean;
  isCurrency: boolean;
  isCaseSensitive: boolean;
  /** java.sql.ResultSetMetaData: 0 no nulls, 1 nullable, 2 unknown. */
  nullable: number;
  precision: number;
  scale: number;
  arrayBaseColumnType: number;
}

interface TableColumn {
  table: number;
  column: number;
  schema: string;
  tableName: string;
  notNull: boolean;
  serial: boolean;
}

const SERIAL_NAMES: Readonly<Record<string, string>> = {
  int2: 'smallserial',
  int4: 'serial',
  int8: 'bigserial',
};
const SIGNED = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric']);
const CASE_SENSITIVE = new Set(['text', 'varchar', 'bpchar', 'name', 'char', 'json', 'jsonb']);

async function tableColumns(client: pg.PoolClient, fields: readonly pg.FieldDef[]): Promise<TableColumn[]> {
  const tables = [...new Set(fields.map((field) => field.tableID).filter((id) => id !== 0))];
  if (tables.length === 0) return [];
  const result = await client.query<TableColumn>({
    text: `select a.attrelid::int as "table", a.attnum::int as "column", n.nspname::text as "schema",
                  c.relname::text as "tableName", a.attnotnull as "notNull",
                  (a.attidentity <> '' or coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid), '') like 'nextval(%')
                    as "serial"
             from pg_catalog.pg_attribute a
             join pg_catalog.pg_class c on c.oid = a.attrelid
             join pg_catalog.pg_namespace n on n.oid = c.relnamespace
             left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
            where a.attrelid = any($1::oid[]) and a.attnum > 0`,
    values: [tables],
    // Catalog rows as numbers and booleans: the pools print everything else as text.
    types: pg.types,
  });
  return result.rows;
}

export async function columnMetadata(
  client: pg.PoolClient,
  fields: readonly pg.FieldDef[],
  types: readonly TypeInfo[],
): Promise<ColumnMetadata[]> {
  const columns = await tableColumns(client, fields);
  return fields.map((field, index) => {
    const type = types[index] as TypeInfo;
    const column = columns.find((c) => c.table === field.tableID && c.column === field.columnID);
    const serial = column?.serial === true && SERIAL_NAMES[type.name] !== undefined;
    const { precision, scale } = precisionAndScale(type, field.dataTypeModifier);
    return {
      name: field.name,
      type: jdbcTypeOf(type),
      typeName: serial ? (SERIAL_NAMES[type.name] as string) : type.name,
      label: field.name,
      schemaName: column?.schema ?? '',
      tableName: column?.tableName ?? '',
      isAutoIncrement: column?.serial ?? false,
      isSigned: SIGNED.has(type.name),
      isCurrency: false,
      isCaseSensitive: CASE_SENSITIVE.has(type.element?.name ?? type.name),
      nullable: column === undefined ? 2 : column.notNull ? 0 : 1,
      precision,
      scale,
      arrayBaseColumnType: jdbcElementTypeOf(type),
    };
  });
}
