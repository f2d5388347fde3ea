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

/** A unique, foreign-key or check constraint refused the statement. */
export class SqlConstraintViolation extends Error {
  constructor(
    readonly kind: 'unique' | 'foreign_key' | 'check' | 'not_null',
    readonly constraint: string | undefined,
    options?: ErrorOptions,
  ) {
    super(`${kind} constraint ${constraint ?? ''} violated`.replace('  ', ' '), options);
    this.name = 'SqlConstraintViolation';
  }
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
