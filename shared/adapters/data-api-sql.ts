import {
  type ArrayValue,
  BeginTransactionCommand,
  type ColumnMetadata,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandOutput,
  type Field,
  type RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import { constraintKindOf, isTransientDriverError } from '#shared/adapters/sql-failures';
import {
  DatabaseResuming,
  describeSqlFailure,
  rewriteNamedParameters,
  type SqlConstraintKind,
  SqlConstraintViolation,
  type SqlParam,
  type SqlParams,
  type SqlRow,
  type SqlRunner,
  sqlFailureOf,
} from '#shared/ports/sql';

/**
 * This adapter throws it; it is defined on the SQL port so that the HTTP error mapping and the
 * Cognito trigger recognise it without importing an adapter. Re-exported for existing callers.
 */
export { DatabaseResuming } from '#shared/ports/sql';

export interface DataApiSqlRunnerConfig {
  /** The caller builds the client (region, credentials, retry policy); this adapter never does. */
  readonly client: RDSDataClient;
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

/**
 * Maps the port's parameters to Data API `SqlParameter`s. The SQL text is sent as written: the
 * Data API binds `:name` itself. Only the parameters the statement uses are sent, once each even
 * when the SQL names one twice; a parameter the SQL names but `params` lacks throws here, before
 * any request leaves.
 *
 * No type hint is guessed from a value's shape. A string is sent as a string (varchar), so SQL
 * that needs another type casts it: `:id::uuid`, `:at::timestamptz`, `:day::date`,
 * `:amount::numeric`, `:big::bigint`. (Hinting every ISO-looking string as TIMESTAMP would break
 * text columns that happen to hold one, and `text = timestamp` comparisons.) The one hint sent is
 * `JSON` for `sqlJson(...)` values, whose type the caller chose explicitly; `:doc::jsonb` still
 * works and so does a bare `:doc` into a jsonb column, as with the pg adapter.
 */
export function toSqlParameters(sql: string, params: SqlParams = {}): SqlParameter[] {
  const names: string[] = [];
  rewriteNamedParameters(sql, (name) => {
    if (!Object.hasOwn(params, name)) throw new Error(`SQL parameter :${name} has no value`);
    if (!names.includes(name)) names.push(name);
    return '';
  });
  return names.map((name) => toSqlParameter(name, params[name] as SqlParam));
}

function toSqlParameter(name: string, value: SqlParam): SqlParameter {
  if (value === null || value === undefined) return { name, value: { isNull: true } };
  switch (typeof value) {
    case 'string':
      return { name, value: { stringValue: value } };
    case 'boolean':
      return { name, value: { booleanValue: value } };
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`SQL parameter :${name} is not a finite number`);
      // Integers beyond 2^53 are not exact in a JS number anyway; pass big ones as strings + ::bigint.
      return Number.isSafeInteger(value)
        ? { name, value: { longValue: value } }
        : { name, value: { doubleValue: value } };
    default:
      return { name, value: { stringValue: JSON.stringify(value.json) ?? 'null' }, typeHint: 'JSON' };
  }
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/*
 * Why typed records (`includeResultMetadata: true`) and not `formatRecordsAs: 'JSON'`:
 * the JSON format drops the column metadata (the docs: "columnMetadata is null … the precise type
 * for numbers and strings isn't preserved") and maps every "other" type (timestamps, dates, uuid,
 * json/jsonb) to a JSON string. Then a jsonb column holding `"x"` and a text column holding `"x"`
 * look the same, so jsonb cannot be parsed, nor timestamptz normalised to ISO 8601, without
 * guessing from the value. BIGINT comes as a JSON number (beyond 2^53 JSON.parse rounds it), and
 * `longReturnType: STRING` would turn int4 into strings too, with nothing to tell them apart.
 * Typed records carry `columnMetadata.typeName` (the PostgreSQL type: int4, int8, numeric,
 * timestamptz, jsonb, _text, …), which decides each value exactly. We ask for longs and decimals
 * as strings so nothing passes through a lossy JS number, then narrow int2/int4 back to numbers.
 *
 * Size: a response over the Data API's 1 MiB limit fails; list queries must be paginated by the
 * caller (cursor + LIMIT), never fetched whole.
 */
const RESULT_OPTIONS = { decimalReturnType: 'STRING', longReturnType: 'STRING' } as const;

const SMALL_INTEGERS = new Set([
  'int2',
  'int4',
  'smallint',
  'integer',
  'serial',
  'serial4',
  'smallserial',
  'oid',
]);
const BIG_INTEGERS = new Set(['int8', 'bigint', 'bigserial', 'serial8']);
const DECIMALS = new Set(['numeric', 'decimal']);
const FLOATS = new Set(['float4', 'float8', 'real', 'double precision']);
const JSONS = new Set(['json', 'jsonb']);
const TIMESTAMPS = new Set([
  'timestamptz',
  'timestamp',
  'timestamp with time zone',
  'timestamp without time zone',
]);

/** `2024-01-02 03:04:05.123456` (UTC, as the Data API returns it) → `2024-01-02T03:04:05.123Z`. */
export function toIsoTimestamp(text: string): string {
  const match = /^(\d{4,}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(text);
  if (!match) return text; // infinity, BC dates: returned as sent
  const [, day, time, fraction = '', zone] = match;
  const millis = fraction.padEnd(3, '0').slice(0, 3); // truncated, as Date parsing does for pg
  const iso = `${day}T${time}.${millis}Z`;
  if (!zone || zone === 'Z' || /^[+-]00(?::?00)?$/.test(zone)) return iso;
  const offset =
    zone.length === 3 ? `${zone}:00` : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  return new Date(`${day}T${time}.${millis}${offset}`).toISOString();
}

/** A decimal string in exponent form (`1.5E-7`, from Java's BigDecimal) → plain digits, as PostgreSQL prints it. */
export function toPlainDecimal(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?[eE]([+-]?\d+)$/.exec(text);
  if (!match) return text;
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = match;
  const digits = `${whole}${fraction}`;
  const point = whole.length + Number(exponentText);
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = `${digits}${'0'.repeat(point - digits.length)}`;
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  out = out.replace(/^0+(?=\d)/, '');
  return `${sign === '-' ? '-' : ''}${out}`;
}

type Scalar = string | number | boolean | Uint8Array | undefined;

function scalarOf(field: Field): Scalar | null {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.blobValue !== undefined) return field.blobValue;
  return undefined;
}

/** Decodes one value by its PostgreSQL type name, to what the pg adapter returns for it. */
function decodeScalar(type: string, value: Scalar | null): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (SMALL_INTEGERS.has(type)) return typeof value === 'string' ? Number(value) : value;
  if (BIG_INTEGERS.has(type)) return String(value);
  if (DECIMALS.has(type)) return typeof value === 'string' ? toPlainDecimal(value) : String(value);
  if (FLOATS.has(type)) return typeof value === 'string' ? Number(value) : value;
  if (type === 'bool' || type === 'boolean')
    return typeof value === 'string' ? value === 't' || value === 'true' : value;
  if (JSONS.has(type)) return typeof value === 'string' ? JSON.parse(value) : value;
  if (TIMESTAMPS.has(type)) return typeof value === 'string' ? toIsoTimestamp(value) : value;
  return value; // text, varchar, uuid, date (YYYY-MM-DD), enums, …
}

function decodeArray(elementType: string, array: ArrayValue): unknown[] {
  if (array.arrayValues) {
    return array.arrayValues.map((inner) => (inner === null ? null : decodeArray(elementType, inner)));
  }
  const values: readonly (Scalar | null)[] =
    array.stringValues ?? array.longValues ?? array.doubleValues ?? array.booleanValues ?? [];
  return values.map((value) => decodeScalar(elementType, value));
}

function decodeField(typeName: string, field: Field): unknown {
  const type = typeName.toLowerCase();
  if (field.arrayValue) return decodeArray(type.replace(/^_/, '').replace(/\[\]$/, ''), field.arrayValue);
  return decodeScalar(type, scalarOf(field));
}

/** Turns typed records + column metadata into rows with the port's value mapping. */
export function decodeRecords(
  records: readonly (readonly Field[])[] | undefined,
  columns: readonly ColumnMetadata[] | undefined,
): SqlRow[] {
  if (!records) return [];
  return records.map((record) => {
    const row: SqlRow = {};
    record.forEach((field, index) => {
      const column = columns?.[index];
      const key = column?.label ?? column?.name ?? `?column?${index}`;
      row[key] = decodeField(column?.typeName ?? '', field);
    });
    return row;
  });
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const CONSTRAINT_MESSAGES: readonly [RegExp, SqlConstraintKind][] = [
  [/duplicate key value violates unique constraint "([^"]*)"/, 'unique'],
  [/violates foreign key constraint "([^"]*)"/, 'foreign_key'],
  [/violates check constraint "([^"]*)"/, 'check'],
  [/violates not-null constraint/, 'not_null'],
];

/**
 * Maps a Data API error to the port's errors. PostgreSQL errors arrive as DatabaseErrorException
 * (BadRequestException before it) whose message carries the server's text, e.g.
 * `ERROR: duplicate key value violates unique constraint "x"` and often `; SQLState: 23505`: the
 * only place the SQLSTATE is read out of text. Serverless v2 and provisioned clusters send
 * `ERROR: <message>[; Hint: …][; Position: n]; SQLState: <code>` without the Detail line (strings
 * captured from the live service; https://github.com/cloud-utils/aurora-data-api/issues/53); older
 * answers had `\n  Detail: …` lines. Both forms are read alike. Constraint violations become
 * `SqlConstraintViolation`, a resuming database `DatabaseResuming`; every other error is returned
 * as it is, described (`sqlFailureOf`) by the SQLSTATE in its text. Transient is judged on the
 * error itself, as for pg's (socket codes, the server's wording); the SQLSTATE read from text does
 * not enter into it, as it never has (see docs/tenant-data.md).
 */
export function translateDataApiError(error: unknown): unknown {
  if (!(error instanceof Error) || sqlFailureOf(error)) return error;
  if (error.name === 'DatabaseResumingException') return new DatabaseResuming({ cause: error });
  const message = error.message;
  const sqlState = /SQLState:\s*([0-9A-Z]{5})/i.exec(message)?.[1];
  if (error.name === 'DatabaseErrorException' || error.name === 'BadRequestException') {
    for (const [pattern, kind] of CONSTRAINT_MESSAGES) {
      const match = pattern.exec(message);
      if (match && (sqlState === undefined || constraintKindOf(sqlState) === kind)) {
        return new SqlConstraintViolation(kind, match[1], { cause: error });
      }
    }
    const kind = constraintKindOf(sqlState);
    if (kind)
      return new SqlConstraintViolation(kind, /constraint "([^"]*)"/.exec(message)?.[1], { cause: error });
  }
  return describeSqlFailure(error, {
    sqlState,
    constraint: /constraint "([^"]*)"/.exec(message)?.[1],
    transient: isTransientDriverError(error),
  });
}

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

/**
 * The SQL port on the RDS Data API (AWS); the pg adapter is the local platform's.
 *
 * - Nothing is retried here: a statement that timed out or failed may have had effects, and the
 *   Data API cancels statements after 45 s. The SDK client's own retries (3 attempts by default)
 *   can resend a write whose response was lost, so build the client for writes with
 *   `maxAttempts: 1`. `DatabaseResuming` is the one error known safe to retry (the statement never
 *   ran): retry it in the caller or the state machine, with backoff.
 * - Strings go as varchar with no type hint: cast in SQL (`:at::timestamptz`, `:id::uuid`).
 * - A failed CommitTransaction is reported, not rolled back (PostgreSQL already ended it).
 * - Responses are capped at 1 MiB by the Data API: paginate every list (cursor + LIMIT).
 */
export class DataApiSqlRunner implements SqlRunner {
  readonly #config: DataApiSqlRunnerConfig;
  /** Set on the runner handed to `transaction(work)`: every call it makes carries it. */
  #transactionId: string | undefined;

  constructor(config: DataApiSqlRunnerConfig) {
    this.#config = config;
  }

  static #inTransaction(config: DataApiSqlRunnerConfig, transactionId: string): DataApiSqlRunner {
    const runner = new DataApiSqlRunner(config);
    runner.#transactionId = transactionId;
    return runner;
  }

  async query<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
    const output = await this.#execute(sql, params, true);
    return decodeRecords(output.records, output.columnMetadata) as T[];
  }

  async execute(sql: string, params?: SqlParams): Promise<number> {
    const output = await this.#execute(sql, params, false);
    return output.numberOfRecordsUpdated ?? 0;
  }

  async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    // Already inside one: run in it (PostgreSQL has no nested transactions).
    if (this.#transactionId !== undefined) return work(this);
    const { client, resourceArn, secretArn, database } = this.#config;
    const begun = await send(() =>
      client.send(new BeginTransactionCommand({ resourceArn, secretArn, database })),
    );
    const transactionId = begun.transactionId;
    if (!transactionId) throw new Error('BeginTransaction returned no transactionId');
    let result: T;
    try {
      result = await work(DataApiSqlRunner.#inTransaction(this.#config, transactionId));
    } catch (error) {
      await client
        .send(new RollbackTransactionCommand({ resourceArn, secretArn, transactionId }))
        .catch(() => {}); // the original error matters more; the Data API expires the transaction anyway
      // The work's own errors, and its statements' (already translated), as they were thrown.
      throw error;
    }
    await send(() => client.send(new CommitTransactionCommand({ resourceArn, secretArn, transactionId })));
    return result;
  }

  async #execute(
    sql: string,
    params: SqlParams | undefined,
    withRecords: boolean,
  ): Promise<ExecuteStatementCommandOutput> {
    const parameters = toSqlParameters(sql, params);
    const { client, resourceArn, secretArn, database } = this.#config;
    const command = new ExecuteStatementCommand({
      resourceArn,
      secretArn,
      database,
      sql,
      parameters,
      ...(this.#transactionId !== undefined ? { transactionId: this.#transactionId } : {}),
      ...(withRecords ? { includeResultMetadata: true, resultSetOptions: RESULT_OPTIONS } : {}),
    });
    return send(() => client.send(command));
  }
}

async function send<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateDataApiError(error);
  }
}
