import * as z from 'zod';

/**
 * Identifiers tenants choose (table and column names). They reach SQL only as quoted identifiers,
 * and only after passing all of these rules, so that quoting is a second line of defence, not
 * the first: lower-case ASCII, ≤ 63 bytes (PostgreSQL's NAMEDATALEN - 1), not a reserved word,
 * not a system prefix, not a system column.
 */
export const IDENTIFIER_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * PostgreSQL's reserved key words: `select word from pg_get_keywords() where catcode in ('R', 'T')`
 * (reserved, and reserved but usable as a function or type name), PostgreSQL 17. A test compares
 * this list with the server's.
 */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  'all',
  'analyse',
  'analyze',
  'and',
  'any',
  'array',
  'as',
  'asc',
  'asymmetric',
  'authorization',
  'binary',
  'both',
  'case',
  'cast',
  'check',
  'collate',
  'collation',
  'column',
  'concurrently',
  'constraint',
  'create',
  'cross',
  'current_catalog',
  'current_date',
  'current_role',
  'current_schema',
  'current_time',
  'current_timestamp',
  'current_user',
  'default',
  'deferrable',
  'desc',
  'distinct',
  'do',
  'else',
  'end',
  'except',
  'false',
  'fetch',
  'for',
  'foreign',
  'freeze',
  'from',
  'full',
  'grant',
  'group',
  'having',
  'ilike',
  'in',
  'initially',
  'inner',
  'intersect',
  'into',
  'is',
  'isnull',
  'join',
  'lateral',
  'leading',
  'left',
  'like',
  'limit',
  'localtime',
  'localtimestamp',
  'natural',
  'not',
  'notnull',
  'null',
  'offset',
  'on',
  'only',
  'or',
  'order',
  'outer',
  'overlaps',
  'placing',
  'primary',
  'references',
  'returning',
  'right',
  'select',
  'session_user',
  'similar',
  'some',
  'symmetric',
  'system_user',
  'table',
  'tablesample',
  'then',
  'to',
  'trailing',
  'true',
  'union',
  'unique',
  'user',
  'using',
  'variadic',
  'verbose',
  'when',
  'where',
  'window',
  'with',
]);

/** Prefixes kept for the platform and PostgreSQL itself. */
export const SYSTEM_PREFIXES = ['pg_', 'tenantry_', 'sql_'] as const;

/** Columns every table has, made by the platform. */
export const SYSTEM_COLUMNS = ['id', 'created_at', 'updated_at'] as const;
/** PostgreSQL's hidden system columns: a user column with one of these names is refused by the server. */
export const POSTGRES_SYSTEM_COLUMNS = ['tableoid', 'xmin', 'cmin', 'xmax', 'cmax', 'ctid', 'oid'] as const;

const reservedColumns = new Set<string>([...SYSTEM_COLUMNS, ...POSTGRES_SYSTEM_COLUMNS]);

/** Why `name` cannot be a tenant identifier, or null when it can. */
export function identifierProblem(name: string, kind: 'table' | 'column'): string | null {
  if (!IDENTIFIER_PATTERN.test(name)) {
    return 'must start with a lower-case letter and contain only a-z, 0-9 and _ (at most 63 characters)';
  }
  if (RESERVED_WORDS.has(name)) return `"${name}" is a reserved SQL word`;
  const prefix = SYSTEM_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `names starting with ${prefix} are reserved for the system`;
  if (kind === 'column' && reservedColumns.has(name)) return `"${name}" is a system column`;
  return null;
}

const identifierSchema = (kind: 'table' | 'column') =>
  z.string().superRefine((name, ctx) => {
    const problem = identifierProblem(name, kind);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const tableNameSchema = identifierSchema('table');
export const columnNameSchema = identifierSchema('column');

/** In paths: the pattern only (an unknown or reserved name is simply not found). */
export const tableParamSchema = z.string().regex(IDENTIFIER_PATTERN, 'not a table name');

/**
 * The only way a name enters SQL text. Checked again here, so that a caller that skipped
 * validation fails loudly instead of building SQL from an unchecked string.
 */
export function quoted(name: string): string {
  if (!IDENTIFIER_PATTERN.test(name)) throw new Error('refusing to quote an unchecked identifier');
  return `"${name}"`;
}
