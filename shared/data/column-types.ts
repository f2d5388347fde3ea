import * as z from 'zod';
import { type SqlParam, sqlJson } from '#shared/ports/sql';

/**
 * Column types tenants may use, and how a value of each is checked, bound and compared. Every
 * value is checked here before it reaches SQL, so the database never sees one it would refuse
 * with a data error (overflow, bad date, bad uuid): those would be 500s.
 */
export const SIMPLE_TYPES = [
  'text',
  'integer',
  'bigint',
  'boolean',
  'date',
  'timestamptz',
  'uuid',
  'jsonb',
  'numeric',
] as const;
export type BaseType = (typeof SIMPLE_TYPES)[number];

export interface ColumnType {
  readonly base: BaseType;
  /** numeric(p,s) only. */
  readonly precision?: number;
  readonly scale?: number;
}

export const MAX_NUMERIC_PRECISION = 1000;
export const MAX_TEXT_LENGTH = 100_000;

const NUMERIC_PATTERN = /^numeric\(\s*(\d{1,4})\s*,\s*(\d{1,4})\s*\)$/;

/** `text`, `numeric(12,2)`, … → a column type, or null. */
export function parseColumnType(text: string): ColumnType | null {
  if ((SIMPLE_TYPES as readonly string[]).includes(text)) return { base: text as BaseType };
  const match = NUMERIC_PATTERN.exec(text);
  if (!match) return null;
  const precision = Number(match[1]);
  const scale = Number(match[2]);
  if (precision < 1 || precision > MAX_NUMERIC_PRECISION || scale > precision) return null;
  return { base: 'numeric', precision, scale };
}

/** The SQL spelling (also what describe answers). */
export function typeSql(type: ColumnType): string {
  return type.base === 'numeric' && type.precision !== undefined
    ? `numeric(${type.precision},${type.scale ?? 0})`
    : type.base;
}

/** PostgreSQL's `format_type()` spelling → a column type, or null for types tenants cannot make. */
export function columnTypeFromCatalog(formatted: string): ColumnType | null {
  const map: Record<string, BaseType> = {
    text: 'text',
    integer: 'integer',
    bigint: 'bigint',
    boolean: 'boolean',
    date: 'date',
    'timestamp with time zone': 'timestamptz',
    uuid: 'uuid',
    jsonb: 'jsonb',
    numeric: 'numeric',
  };
  const simple = map[formatted];
  if (simple) return { base: simple };
  const match = /^numeric\((\d+),(\d+)\)$/.exec(formatted);
  if (match) return { base: 'numeric', precision: Number(match[1]), scale: Number(match[2]) };
  return null;
}

export const columnTypeSchema = z.string().transform((text, ctx) => {
  const type = parseColumnType(text);
  if (type) return type;
  ctx.addIssue({
    code: 'custom',
    message: `must be one of ${SIMPLE_TYPES.join(', ')} or numeric(p,s) with 1 ≤ p ≤ ${MAX_NUMERIC_PRECISION}, 0 ≤ s ≤ p`,
  });
  return z.NEVER;
});

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

const INT32 = { min: -2147483648, max: 2147483647 };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL_PATTERN = /^[+-]?(\d+)(?:\.(\d+))?$/;

const noNul = (text: string) => !text.includes('\u0000');

function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1) return false;
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const timestampSchema = z.iso
  .datetime({ offset: true, local: false })
  .refine((text) => isCalendarDate(text.slice(0, 10)) && Number.isFinite(Date.parse(text)), {
    message: 'must be an ISO 8601 timestamp with a time zone, such as 2024-05-01T12:00:00Z',
  });

function checkDecimal(type: ColumnType, text: string): string | null {
  const match = DECIMAL_PATTERN.exec(text);
  if (!match || text.length > MAX_NUMERIC_PRECISION + 2) return 'must be a decimal number such as 12.50';
  if (type.precision !== undefined) {
    const whole = (match[1] ?? '').replace(/^0+/, '');
    const allowed = type.precision - (type.scale ?? 0);
    if (whole.length > allowed) {
      return `must have at most ${allowed} digit(s) before the decimal point (numeric(${type.precision},${type.scale}))`;
    }
  }
  return null;
}

/** JSON text PostgreSQL's jsonb accepts: no NUL anywhere (jsonb refuses \u0000). */
function jsonStorable(value: unknown): boolean {
  const text = JSON.stringify(value);
  return text !== undefined && !text.includes('\\u0000');
}

/**
 * The zod schema of one value written to a column of `type` (JSON body), not counting null. The
 * output is what is bound: strings for bigint/numeric (exact), numbers for integer.
 */
export function valueSchema(type: ColumnType): z.ZodType<unknown> {
  switch (type.base) {
    case 'text':
      return z.string().max(MAX_TEXT_LENGTH).refine(noNul, { message: 'must not contain NUL characters' });
    case 'integer':
      return z.number().int().min(INT32.min).max(INT32.max);
    case 'bigint':
      return z
        .union([z.number().int(), z.string().regex(/^[+-]?\d{1,19}$/, 'must be an integer')])
        .transform((value, ctx) => {
          if (typeof value === 'number' && !Number.isSafeInteger(value)) {
            ctx.addIssue({ code: 'custom', message: 'beyond 2^53: send it as a string of digits' });
            return z.NEVER;
          }
          const big = BigInt(value);
          if (big < INT64.min || big > INT64.max) {
            ctx.addIssue({ code: 'custom', message: 'out of range for bigint' });
            return z.NEVER;
          }
          return big.toString();
        });
    case 'numeric':
      return z.union([z.number(), z.string().max(MAX_NUMERIC_PRECISION + 2)]).transform((value, ctx) => {
        const text = typeof value === 'number' ? String(value) : value;
        const problem =
          typeof value === 'number' && !Number.isFinite(value) ? 'must be finite' : checkDecimal(type, text);
        if (problem) {
          ctx.addIssue({ code: 'custom', message: problem });
          return z.NEVER;
        }
        return text;
      });
    case 'boolean':
      return z.boolean();
    case 'date':
      return z.string().refine(isCalendarDate, { message: 'must be a date as YYYY-MM-DD' });
    case 'timestamptz':
      return timestampSchema;
    case 'uuid':
      return z.string().regex(UUID_PATTERN, 'must be a UUID');
    case 'jsonb':
      return z.unknown().refine(jsonStorable, { message: 'must be JSON without NUL characters' });
  }
}

/** A value from a query string (filters, cursors) → the same checked value, or an error message. */
export function valueFromText(type: ColumnType, text: string): { value: unknown } | { problem: string } {
  let input: unknown = text;
  switch (type.base) {
    case 'integer':
      if (!/^[+-]?\d{1,10}$/.test(text)) return { problem: 'must be an integer' };
      input = Number(text);
      break;
    case 'bigint':
      input = text;
      break;
    case 'boolean':
      if (text !== 'true' && text !== 'false') return { problem: 'must be true or false' };
      input = text === 'true';
      break;
    case 'jsonb':
      return { problem: 'jsonb columns can only be filtered with is_null' };
    default:
      break;
  }
  const parsed = valueSchema(type).safeParse(input);
  if (!parsed.success) return { problem: parsed.error.issues[0]?.message ?? 'invalid value' };
  return { value: parsed.data };
}

/** The SQL cast a bound value of `type` gets (the Data API sends strings untyped). */
export function castSql(type: ColumnType): string {
  return type.base === 'numeric' ? 'numeric' : type.base;
}

/** A checked value as a SQL parameter. */
export function toParam(type: ColumnType, value: unknown): SqlParam {
  if (value === null || value === undefined) return null;
  if (type.base === 'jsonb') return sqlJson(value);
  return value as SqlParam;
}

// ---------------------------------------------------------------------------------------------
// Defaults: typed values, rendered as literals (DDL takes no parameters)
// ---------------------------------------------------------------------------------------------

/** A string as an escape-string literal: safe whatever `standard_conforming_strings` says. */
export function literal(text: string): string {
  if (!noNul(text)) throw new Error('NUL in a literal');
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The default's schema for a column type: a value of the type; for timestamptz also `now`. */
export function defaultSchema(type: ColumnType): z.ZodType<unknown> {
  const value = valueSchema(type);
  return type.base === 'timestamptz' ? z.union([z.literal('now'), value]) : value;
}

/** A checked default value → its SQL expression. Never raw client text: always a quoted literal. */
export function defaultSql(type: ColumnType, value: unknown): string {
  if (type.base === 'timestamptz' && value === 'now') return 'now()';
  if (type.base === 'boolean') return value === true ? 'true' : 'false';
  const text = type.base === 'jsonb' ? JSON.stringify(value) : String(value);
  return `${literal(text)}::${typeSql(type)}`;
}

/**
 * The catalog's default expression → the typed value it came from (what describe answers), for
 * the forms `defaultSql` writes; anything else (a module's own default) as `{ expression }`.
 */
export function defaultFromCatalog(type: ColumnType, expression: string | null): unknown {
  if (expression === null) return undefined;
  if (/^now\(\)$/i.test(expression)) return 'now';
  if (expression === 'true' || expression === 'false') return expression === 'true';
  const quotedMatch = /^'((?:[^']|'')*)'(?:::[a-z ]+(?:\(\d+,\d+\))?)?$/s.exec(expression);
  const bare = /^\(?(-?\d+(?:\.\d+)?)\)?(?:::[a-z ]+(?:\(\d+,\d+\))?)?$/.exec(expression);
  const text = quotedMatch ? (quotedMatch[1] ?? '').replace(/''/g, "'") : bare ? (bare[1] ?? '') : null;
  if (text === null) return { expression };
  switch (type.base) {
    case 'integer':
      return Number(text);
    case 'jsonb':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return { expression };
      }
    case 'timestamptz':
      return Number.isFinite(Date.parse(text)) ? new Date(text).toISOString() : text;
    default:
      return text;
  }
}
