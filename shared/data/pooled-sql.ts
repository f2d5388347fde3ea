import type { SqlParams, SqlRow, SqlRunner } from '#shared/ports/sql';

/** Whose schema a pooled runner speaks in: the tenant's NOLOGIN role and its database's schema. */
export interface PoolScope {
  readonly role: string;
  readonly schema: string;
}

/**
 * `SET TRANSACTION …` must come before any query of its transaction
 * (https://www.postgresql.org/docs/17/sql-set-transaction.html), and entering the scope is a
 * query: such a first statement runs before it, still as the pool's login role, which it cannot
 * give anything (it only sets the transaction's characteristics).
 */
const SETS_TRANSACTION = /^\s*set\s+transaction\b/i;

/**
 * Enters the tenant's scope for the rest of the transaction: its role (the statements run with its
 * privileges and no other's) and its schema as the whole search path (unqualified names resolve
 * there, and nowhere else). `set_config(…, true)` is `SET LOCAL` with parameters: nothing is
 * spliced into the text, and both end with the transaction, so that a connection the Data API
 * hands to the next call (any tenant's) keeps neither.
 * https://www.postgresql.org/docs/17/functions-admin.html#FUNCTIONS-ADMIN-SET
 */
const ENTER = `select set_config('role', :role, true) as role, set_config('search_path', :searchPath, true) as path`;

function enter(tx: SqlRunner, scope: PoolScope): Promise<unknown> {
  // The schema is quoted as search_path takes it; its name is made from an id ([a-z2-7_]).
  return tx.query(ENTER, { role: scope.role, searchPath: `"${scope.schema}"` });
}

/** The runner handed to the work of a pooled transaction: enters the scope before its first query. */
class ScopedTransaction implements SqlRunner {
  #entered: Promise<unknown> | undefined;

  constructor(
    private readonly tx: SqlRunner,
    private readonly scope: PoolScope,
  ) {}

  async #ready(sql: string): Promise<void> {
    if (this.#entered === undefined) {
      if (SETS_TRANSACTION.test(sql)) return;
      this.#entered = enter(this.tx, this.scope);
    }
    await this.#entered;
  }

  async query<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
    await this.#ready(sql);
    return this.tx.query<T>(sql, params);
  }

  async execute(sql: string, params?: SqlParams): Promise<number> {
    await this.#ready(sql);
    return this.tx.execute(sql, params);
  }

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    // Already inside one (PostgreSQL has no nested transactions).
    return work(this);
  }
}

/**
 * A pooled tenant database (docs/isolation-modes.md): `login` speaks as the pool's login role to
 * the cluster's pool database, a role that may switch to any pooled tenant's role (granted
 * `WITH INHERIT FALSE, SET TRUE`) and holds no privilege of its own in any tenant's schema. Every
 * statement runs in a transaction that first switches to this tenant's role and schema: a single
 * statement costs a BeginTransaction, the switch, the statement and a CommitTransaction (the
 * Data API takes one statement per call, and a session setting outside a transaction would stay
 * on a pooled connection for whoever gets it next).
 */
export class PooledSqlRunner implements SqlRunner {
  constructor(
    private readonly login: SqlRunner,
    private readonly scope: PoolScope,
  ) {}

  query<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.transaction((tx) => tx.query<T>(sql, params));
  }

  execute(sql: string, params?: SqlParams): Promise<number> {
    return this.transaction((tx) => tx.execute(sql, params));
  }

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.login.transaction((tx) => work(new ScopedTransaction(tx, this.scope)));
  }
}
