/**
 * What the stand-in does with the SQL text before PostgreSQL sees it: refuse several statements in
 * one call, and bind `:name` parameters as typed positional ones.
 */
import { rewriteNamedParameters } from '#shared/ports/sql';
import { databaseError, validation } from './errors.ts';
import type { FieldInput, SqlParameterInput, TypeHint } from './requests.ts';

/**
 * The number of statements in `sql`: `;`-separated pieces that hold more than blanks and comments.
 * Quoted text, quoted identifiers, dollar-quoted bodies and comments are skipped, so a `;` inside
 * them separates nothing; a trailing `;` alone does not make a second statement.
 */
export function countStatements(sql: string): number {
  let count = 0;
  let hasContent = false;
  let i = 0;
  while (i < sql.length) {
    const char = sql[i] as string;
    const next = sql[i + 1];
    if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (char === '/' && next === '*') {
      i = skipBlockComment(sql, i);
    } else if (char === ';') {
      if (hasContent) count += 1;
      hasContent = false;
      i += 1;
    } else if (/\s/.test(char)) {
      i += 1;
    } else {
      hasContent = true;
      i = skipToken(sql, i);
    }
  }
  return hasContent ? count + 1 : count;
}

/** Block comments nest in PostgreSQL. */
function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth += 1;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else i += 1;
  }
  return sql.length;
}

/** Skips one quoted string, quoted identifier or dollar-quoted body, else one character. */
function skipToken(sql: string, start: number): number {
  const char = sql[start] as string;
  if (char === "'" || char === '"') {
    // A doubled quote inside is read as an end followed by a new start: the same result.
    const end = sql.indexOf(char, start + 1);
    return end === -1 ? sql.length : end + 1;
  }
  if (char === '$') {
    const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(start))?.[0];
    if (tag !== undefined) {
      const end = sql.indexOf(tag, start + tag.length);
      return end === -1 ? sql.length : end + tag.length;
    }
  }
  return start + 1;
}

/**
 * "Multistatements aren't supported. Attempting to execute multiple statements in a single API
 * call returns … (ValidationException) …: Multistatements aren't supported."
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.differences.html
 */
export function assertSingleStatement(sql: string): void {
  if (countStatements(sql) > 1) throw validation("Multistatements aren't supported.");
}

export interface BoundStatement {
  readonly text: string;
  readonly values: unknown[];
}

/**
 * The type hints, as casts: "DATE – The corresponding String parameter value is sent as an object
 * of DATE type to the database" and so on for DECIMAL, JSON, TIME, TIMESTAMP and UUID.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api-operations
 */
const HINT_CASTS: Readonly<Record<TypeHint, string>> = {
  DATE: 'date',
  DECIMAL: 'numeric',
  JSON: 'json',
  TIME: 'time',
  TIMESTAMP: 'timestamp',
  UUID: 'uuid',
};

/**
 * One parameter as a typed PostgreSQL value. The Data API passes LONG as bigint, DOUBLE as double
 * precision, BOOLEAN as boolean, BLOB as bytea and STRING as varchar unless hinted (the JDBC type
 * table on the same page), so `insert into t (an_integer) values (:text)` fails as it does in AWS.
 */
function bindValue(
  name: string,
  value: FieldInput,
  hint: TypeHint | undefined,
): { cast: string; value: unknown } {
  if (value.arrayValue !== undefined) {
    // "Array parameters are not supported." (ExecuteStatement `parameters`, API reference).
    throw validation('Array parameters are not supported.');
  }
  if (value.isNull === true) return { cast: '', value: null };
  if (value.booleanValue !== undefined) return { cast: 'boolean', value: value.booleanValue };
  if (value.longValue !== undefined) return { cast: 'bigint', value: String(value.longValue) };
  if (value.doubleValue !== undefined) return { cast: 'double precision', value: String(value.doubleValue) };
  if (value.blobValue !== undefined) return { cast: 'bytea', value: Buffer.from(value.blobValue, 'base64') };
  if (value.stringValue !== undefined) {
    return { cast: hint === undefined ? 'varchar' : HINT_CASTS[hint], value: value.stringValue };
  }
  throw validation(`The value of parameter ${name} has no member set.`);
}

/**
 * Replaces `:name` with `$n` (one `$n` per name, however often it is used) and the value list.
 * A name the SQL uses but `parameters` lacks fails as the JDBC driver behind the Data API words it
 * ("No value specified for parameter {0}.", SQLSTATE 22023 in pgjdbc).
 */
export function bindParameters(sql: string, parameters: readonly SqlParameterInput[]): BoundStatement {
  const byName = new Map(parameters.map((parameter) => [parameter.name, parameter]));
  const order: string[] = [];
  const casts: string[] = [];
  const values: unknown[] = [];
  const text = rewriteNamedParameters(sql, (name) => {
    let index = order.indexOf(name);
    if (index === -1) {
      index = order.push(name) - 1;
      const parameter = byName.get(name);
      if (parameter === undefined) {
        throw databaseError(`No value specified for parameter ${index + 1}.; SQLState: 22023`);
      }
      const bound = bindValue(name, parameter.value, parameter.typeHint);
      casts.push(bound.cast);
      values.push(bound.value);
    }
    const cast = casts[index];
    return cast ? `$${index + 1}::${cast}` : `$${index + 1}`;
  });
  return { text, values };
}
