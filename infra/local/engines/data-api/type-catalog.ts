/**
 * Which PostgreSQL types the Data API can return, and how it names them. The lists are the
 * service's: "RDS Data API supports following Aurora PostgreSQL scalar types: BOOL, BYTEA, DATE,
 * CIDR, DECIMAL, NUMERIC, ENUM, FLOAT8, DOUBLE PRECISION, INET, INT, INT4, SERIAL, INT2, SMALLINT,
 * SMALLSERIAL, INT8, BIGINT, BIGSERIAL, JSONB, JSON, REAL, FLOAT, TEXT, CHAR(N), VARCHAR, NAME,
 * TIME, TIMESTAMP, UUID, VECTOR" and the array types "BOOL[], BIT[], DATE[], DECIMAL[],
 * NUMERIC[], FLOAT8[], INT[], INT2[], INT8[], JSON[], REAL[], TEXT[], CHAR(N)[], VARCHAR[],
 * NAME[], TIME[], TIMESTAMP[], UUID[]"; TIMESTAMPTZ is returned too ("Data API always returns the
 * Aurora PostgreSQL data type TIMESTAMPTZ in UTC time zone").
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api-operations
 * Anything else (interval, money, geometric types, "char", regclass, void, record, …) is refused
 * with UnsupportedResultException, as data-api.differences.html describes.
 */
import pg from 'pg';

/** How a value of a type travels: the member of `Field` it uses and how its text is read. */
export type ValueKind =
  | 'bool'
  | 'int'
  | 'float'
  | 'numeric'
  | 'bytea'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'text'
  | 'unsupported';

export interface TypeInfo {
  readonly oid: number;
  /** `typname`, e.g. `int4`, `_text`, an enum's own name. */
  readonly name: string;
  readonly kind: ValueKind;
  /** For arrays: the element type (its kind `unsupported` when the array type is not listed). */
  readonly element: TypeInfo | undefined;
}

const SCALARS: Readonly<Record<string, ValueKind>> = {
  bool: 'bool',
  bytea: 'bytea',
  date: 'date',
  cidr: 'text',
  numeric: 'numeric',
  float8: 'float',
  inet: 'text',
  int4: 'int',
  int2: 'int',
  int8: 'int',
  jsonb: 'text',
  json: 'text',
  float4: 'float',
  text: 'text',
  bpchar: 'text',
  varchar: 'text',
  name: 'text',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  uuid: 'text',
  vector: 'text',
};

const ARRAY_ELEMENTS = new Set([
  'bool',
  'bit',
  'date',
  'numeric',
  'float8',
  'int4',
  'int2',
  'int8',
  'json',
  'float4',
  'text',
  'bpchar',
  'varchar',
  'name',
  'time',
  'timestamp',
  'uuid',
]);

interface PgTypeRow {
  oid: number;
  typname: string;
  typtype: string;
  typelem: number;
  typbasetype: number;
  typcategory: string;
}

/** OIDs below this are built in and mean the same in every database (PostgreSQL's FirstNormalObjectId). */
const FIRST_USER_OID = 16_384;

/**
 * Type descriptions read from `pg_type`, cached: built-in types once for all databases, the
 * others (enums, domains) per database.
 */
export class TypeCatalog {
  readonly #builtIn = new Map<number, PgTypeRow>();
  readonly #byDatabase = new Map<string, Map<number, PgTypeRow>>();

  async describe(client: pg.PoolClient, database: string, oids: readonly number[]): Promise<TypeInfo[]> {
    const local = this.#byDatabase.get(database) ?? new Map<number, PgTypeRow>();
    this.#byDatabase.set(database, local);
    const find = (oid: number) => (oid < FIRST_USER_OID ? this.#builtIn : local).get(oid);
    let missing = [...new Set(oids)].filter((oid) => find(oid) === undefined);
    // Arrays need their element row, domains their base type's: a few rounds at most.
    while (missing.length > 0) {
      const rows = await client.query<PgTypeRow>({
        text: `select oid::int as oid, typname::text as typname, typtype::text as typtype,
                      typelem::int as typelem, typbasetype::int as typbasetype, typcategory::text as typcategory
                 from pg_catalog.pg_type where oid = any($1::oid[])`,
        values: [missing],
        // Catalog rows as numbers and booleans: the pools print everything else as text.
        types: pg.types,
      });
      for (const row of rows.rows) (row.oid < FIRST_USER_OID ? this.#builtIn : local).set(row.oid, row);
      const known = new Set(rows.rows.map((row) => row.oid));
      const further = rows.rows
        .flatMap((row) => [
          row.typcategory === 'A' ? row.typelem : 0,
          row.typtype === 'd' ? row.typbasetype : 0,
        ])
        .filter((oid) => oid !== 0 && find(oid) === undefined);
      missing = [...new Set(further)].filter((oid) => !known.has(oid));
    }
    return oids.map((oid) => infoOf(oid, find));
  }
}

function infoOf(oid: number, find: (oid: number) => PgTypeRow | undefined, depth = 0): TypeInfo {
  const row = find(oid);
  if (row === undefined || depth > 8)
    return { oid, name: String(oid), kind: 'unsupported', element: undefined };
  if (row.typtype === 'd') {
    const base = infoOf(row.typbasetype, find, depth + 1);
    return { ...base, oid };
  }
  if (row.typcategory === 'A' && row.typelem !== 0) {
    const element = infoOf(row.typelem, find, depth + 1);
    const listed = ARRAY_ELEMENTS.has(element.name);
    return {
      oid,
      name: row.typname,
      kind: listed ? element.kind : 'unsupported',
      element: listed ? element : { ...element, kind: 'unsupported' },
    };
  }
  const kind = row.typtype === 'e' ? 'text' : (SCALARS[row.typname] ?? 'unsupported');
  return { oid, name: row.typname, kind, element: undefined };
}

/** java.sql.Types codes as the JDBC driver behind the Data API reports them (`ColumnMetadata.type`). */
const JDBC_TYPES: Readonly<Record<string, number>> = {
  int2: 5,
  int4: 4,
  int8: -5,
  float4: 7,
  float8: 8,
  numeric: 2,
  bool: -7,
  bit: -7,
  bpchar: 1,
  varchar: 12,
  text: 12,
  name: 12,
  date: 91,
  time: 92,
  timestamp: 93,
  timestamptz: 93,
  bytea: -2,
};
const JDBC_ARRAY = 2003;
const JDBC_OTHER = 1111;

export function jdbcTypeOf(info: TypeInfo): number {
  if (info.element !== undefined) return JDBC_ARRAY;
  return JDBC_TYPES[info.name] ?? JDBC_OTHER;
}

export function jdbcElementTypeOf(info: TypeInfo): number {
  return info.element === undefined ? 0 : jdbcTypeOf(info.element);
}

const UNLIMITED = 2_147_483_647;

/** Precision and scale roughly as the JDBC driver reports them; consumers should not rely on them. */
export function precisionAndScale(info: TypeInfo, typmod: number): { precision: number; scale: number } {
  switch (info.name) {
    case 'int2':
      return { precision: 5, scale: 0 };
    case 'int4':
      return { precision: 10, scale: 0 };
    case 'int8':
      return { precision: 19, scale: 0 };
    case 'float4':
      return { precision: 8, scale: 8 };
    case 'float8':
      return { precision: 17, scale: 17 };
    case 'bool':
      return { precision: 1, scale: 0 };
    case 'numeric':
      return typmod < 4
        ? { precision: 0, scale: 0 }
        : { precision: (typmod - 4) >> 16, scale: (typmod - 4) & 0xffff };
    case 'bpchar':
    case 'varchar':
      return { precision: typmod < 4 ? UNLIMITED : typmod - 4, scale: 0 };
    case 'date':
      return { precision: 13, scale: 0 };
    case 'time':
      return { precision: 15, scale: 6 };
    case 'timestamp':
      return { precision: 29, scale: 6 };
    case 'timestamptz':
      return { precision: 35, scale: 6 };
    case 'uuid':
      return { precision: 36, scale: 0 };
    default:
      return { precision: UNLIMITED, scale: 0 };
  }
}
