/**
 * The SQL port. Statements use named parameters (`:name`), as the RDS Data API does; values are
 * always parameters, never spliced into the text. Rows come back as plain objects with JSON-safe
 * values, the same from every adapter:
 * text, uuid, numeric, bigint → string · integer, real → number · boolean → boolean ·
 * timestamptz → ISO 8601 string (UTC) · date → `YYYY-MM-DD` · json/jsonb → parsed value ·
 * arrays → arrays · NULL → null.
 */
export type SqlScalar = string | number | boolean | null;
/**
 * No array parameters: the Data API does not take them. Pass a list as JSON and unpack it in SQL
 * (`jsonb_array_elements_text(:ids::jsonb)`).
 */
export type SqlParam = SqlScalar | SqlJson;

/** A JSON value passed as a parameter (bind it as `:name::jsonb`). */
export interface SqlJson {
  readonly json: unknown;
}
export const sqlJson = (value: unknown): SqlJson => ({ json: value });

export type SqlParams = Readonly<Record<string, SqlParam>>;
export type SqlRow = Record<string, unknown>;

export interface SqlRunner {
  /** Runs one statement and returns its rows (none for statements without RETURNING). */
  query<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]>;
  /** Runs one statement and returns how many rows it touched. */
  execute(sql: string, params?: SqlParams): Promise<number>;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
   * Not retried: a transaction may have had effects before a failure.
   */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

/** What every adapter says about a statement that failed, whatever its driver. */
export interface SqlFailure {
  /** PostgreSQL's SQLSTATE (`23505`, `42P01`, …), when the server gave one. */
  readonly sqlState: string | undefined;
  /** The constraint the server named, when it named one. */
  readonly constraint: string | undefined;
  /** Worth running again later: the statement did not take effect for a passing reason. */
  readonly transient: boolean;
}

/** An error an adapter made for a failed statement (the driver's error is its `cause`). */
export class SqlError extends Error implements SqlFailure {
  readonly sqlState: string | undefined;
  readonly constraint: string | undefined;
  readonly transient: boolean;

  constructor(message: string, failure: SqlFailure, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SqlError';
    this.sqlState = failure.sqlState;
    this.constraint = failure.constraint;
    this.transient = failure.transient;
  }
}

/**
 * The database was paused (Aurora Serverless v2 auto-pause) and the Data API cancelled the request
 * while it resumes. The statement did not run, so retrying it later is safe, even for a write. The
 * name is stable so a Step Functions `Retry` can match it (`ErrorEquals: ['DatabaseResuming']`).
 * Defined on the port, not in the Data API adapter that throws it, so that the HTTP error mapping
 * and the Cognito trigger can recognise it without importing an adapter.
 */
export class DatabaseResuming extends SqlError {
  readonly retryable = true;

  constructor(options?: ErrorOptions) {
    super(
      'the database is resuming; retry in a few seconds',
      { sqlState: undefined, constraint: undefined, transient: true },
      options,
    );
    this.name = 'DatabaseResuming';
  }
}

export type SqlConstraintKind = 'unique' | 'foreign_key' | 'check' | 'not_null';

/** The SQLSTATEs of the constraint violations, by kind. */
export const CONSTRAINT_SQLSTATES: Readonly<Record<SqlConstraintKind, string>> = {
  unique: '23505',
  foreign_key: '23503',
  check: '23514',
  not_null: '23502',
};

/** A unique, foreign-key or check constraint refused the statement. */
export class SqlConstraintViolation extends SqlError {
  constructor(
    readonly kind: SqlConstraintKind,
    constraint: string | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `${kind} constraint ${constraint ?? ''} violated`.replace('  ', ' '),
      { sqlState: CONSTRAINT_SQLSTATES[kind], constraint, transient: false },
      options,
    );
    this.name = 'SqlConstraintViolation';
  }
}

/*
 * Most failures are rethrown as the driver raised them (its own message, stack and name, which
 * callers and Step Functions may match), so the port's facts about them are kept beside the error
 * rather than on a new one.
 */
const failures = new WeakMap<object, SqlFailure>();

/** For adapters: records what `error`, thrown by a statement, means in the port's terms. */
export function describeSqlFailure<E extends object>(error: E, failure: SqlFailure): E {
  failures.set(error, failure);
  return error;
}

/** The port's facts about an error a runner threw; undefined for errors that came from elsewhere. */
export function sqlFailureOf(error: unknown): SqlFailure | undefined {
  if (error instanceof SqlError) return error;
  return typeof error === 'object' && error !== null ? failures.get(error) : undefined;
}

/** Replaces `:name` with what `placeholder` returns, skipping `::casts`, quoted text and comments. */
export function rewriteNamedParameters(sql: string, placeholder: (name: string) => string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const char = sql[i] as string;
    const next = sql[i + 1];
    if (char === "'" || char === '"') {
      const end = sql.indexOf(char, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (char === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (char === ':' && next !== undefined && /[A-Za-z_]/.test(next)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1));
      const name = match?.[0] ?? '';
      out += placeholder(name);
      i += 1 + name.length;
    } else {
      out += char;
      i += 1;
    }
  }
  return out;
}
