import pg from 'pg';
import { constraintKindOf, isTransientDriverError } from '#shared/adapters/sql-failures';
import {
  describeSqlFailure,
  rewriteNamedParameters,
  SqlConstraintViolation,
  type SqlParam,
  type SqlParams,
  type SqlRow,
  type SqlRunner,
  sqlFailureOf,
} from '#shared/ports/sql';

// Values come back as the port promises, whatever the pg defaults are.
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => {
    switch (oid) {
      case 20: // int8: beyond 2^53, keep the digits
      case 1700: // numeric: keep the exact decimal
        return (value: string) => value;
      case 1082: // date
        return (value: string) => value;
      case 1114: // timestamp without time zone: read as UTC
        return (value: string) => new Date(`${value.replace(' ', 'T')}Z`).toISOString();
      case 1184: // timestamptz
        return (value: string) => new Date(value).toISOString();
      case 1231: // numeric[]
      case 1182: // date[]
        return (value: string) => pg.types.arrayParser(value, (item: string) => item);
      case 1185: // timestamptz[]
        return (value: string) => pg.types.arrayParser(value, (item: string) => new Date(item).toISOString());
      default:
        return pg.types.getTypeParser(oid, format);
    }
  },
} as pg.CustomTypesConfig;

/** Rewritten statements by their text: the same statements run over and over. */
const rewritten = new Map<string, { text: string; order: string[] }>();
const REWRITE_CACHE_LIMIT = 2_000;

function rewrite(sql: string): { text: string; order: string[] } {
  let cached = rewritten.get(sql);
  if (!cached) {
    const order: string[] = [];
    const text = rewriteNamedParameters(sql, (name) => {
      let index = order.indexOf(name);
      if (index === -1) index = order.push(name) - 1;
      return `$${index + 1}`;
    });
    cached = { text, order };
    if (rewritten.size >= REWRITE_CACHE_LIMIT) rewritten.clear();
    rewritten.set(sql, cached);
  }
  return cached;
}

function toPositional(sql: string, params: SqlParams = {}): { text: string; values: unknown[] } {
  const { text, order } = rewrite(sql);
  const values = order.map((name) => {
    if (!(name in params)) throw new Error(`SQL parameter :${name} has no value`);
    const value = params[name] as SqlParam;
    return value !== null && typeof value === 'object' && 'json' in value
      ? JSON.stringify(value.json)
      : value;
  });
  return { text, values };
}

/**
 * pg's error in the port's terms: constraint violations become `SqlConstraintViolation`; any other
 * failure is rethrown as pg raised it, described (`sqlFailureOf`) by its SQLSTATE (pg's `code`).
 */
function translate(error: unknown): unknown {
  if (!(error instanceof Error) || sqlFailureOf(error)) return error;
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const named = typeof constraint === 'string' ? constraint : undefined;
  const kind = constraintKindOf(sqlState);
  if (kind) return new SqlConstraintViolation(kind, named, { cause: error });
  return describeSqlFailure(error, { sqlState, constraint: named, transient: isTransientDriverError(error) });
}

/** Runs one call on pg, its failure translated. */
async function onPg<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translate(error);
  }
}

class ClientRunner implements SqlRunner {
  constructor(private readonly client: pg.PoolClient) {}

  async query<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
    const { text, values } = toPositional(sql, params);
    return (await onPg(() => this.client.query({ text, values, types }))).rows as T[];
  }

  async execute(sql: string, params?: SqlParams): Promise<number> {
    const { text, values } = toPositional(sql, params);
    return (await onPg(() => this.client.query({ text, values, types }))).rowCount ?? 0;
  }

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    // Already inside one: PostgreSQL has no nested transactions; run inside the outer one.
    return work(this);
  }
}

/**
 * The SQL port on a `pg` connection pool: the local platform's adapter (the RDS Data API one is
 * for AWS). One pool per database and role.
 */
export class PgSqlRunner implements SqlRunner {
  readonly #pool: pg.Pool;

  constructor(config: pg.PoolConfig) {
    this.#pool = new pg.Pool({ max: 10, idleTimeoutMillis: 10_000, ...config });
    // An idle client losing its connection (server restart) must not crash the process.
    this.#pool.on('error', () => {});
  }

  async query<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
    const client = await onPg(() => this.#pool.connect());
    try {
      return await new ClientRunner(client).query<T>(sql, params);
    } finally {
      client.release();
    }
  }

  async execute(sql: string, params?: SqlParams): Promise<number> {
    const client = await onPg(() => this.#pool.connect());
    try {
      return await new ClientRunner(client).execute(sql, params);
    } finally {
      client.release();
    }
  }

  async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await onPg(() => this.#pool.connect());
    try {
      await onPg(() => client.query('BEGIN'));
      const result = await work(new ClientRunner(client));
      // A deferred constraint is checked here.
      await onPg(() => client.query('COMMIT'));
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      // The work's own errors, and its statements' (already translated), as they were thrown.
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
