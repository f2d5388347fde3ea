/**
 * Data API transactions: BeginTransaction takes a connection and holds it, in a PostgreSQL
 * transaction, until CommitTransaction or RollbackTransaction, or until the service ends it:
 * "A transaction can run for a maximum of 24 hours. A transaction is terminated and rolled back
 * automatically after 24 hours. A transaction times out if no calls use its transaction ID in
 * three minutes. If a transaction times out before it's committed, it's rolled back automatically."
 * https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BeginTransaction.html
 *
 * A statement that fails inside leaves the transaction open and aborted, as PostgreSQL does: the
 * next statement answers `ERROR: current transaction is aborted, commands ignored until end of
 * transaction block; SQLState: 25P02` (an answer captured from the live service).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { databaseError, transactionBusy, transactionNotFound } from './errors.ts';
import type { Login } from './pools.ts';

export interface Transaction {
  readonly id: string;
  readonly client: pg.PoolClient;
  readonly login: Login;
  /** The secret it was begun with: another secret's caller cannot use it. */
  readonly secretArn: string;
  readonly begunAt: number;
  lastUsedAt: number;
  busy: boolean;
  /** The first statement error, which a later CommitTransaction reports. */
  failure: string | undefined;
  /** The connection failed: it is destroyed, not returned to its pool. */
  broken: boolean;
}

export interface TransactionLimits {
  readonly transactionIdleMs: number;
  readonly transactionMaxMs: number;
}

/** IDs are opaque to callers; the API model allows up to 192 characters. */
const newTransactionId = () => randomBytes(96).toString('base64');

export class Transactions {
  readonly #open = new Map<string, Transaction>();

  constructor(
    private readonly now: () => number,
    private readonly limits: TransactionLimits,
  ) {}

  async begin(client: pg.PoolClient, login: Login, secretArn: string): Promise<string> {
    try {
      await client.query('BEGIN');
    } catch (error) {
      client.release(true);
      throw error;
    }
    const id = newTransactionId();
    const at = this.now();
    this.#open.set(id, {
      id,
      client,
      login,
      secretArn,
      begunAt: at,
      lastUsedAt: at,
      busy: false,
      failure: undefined,
      broken: false,
    });
    return id;
  }

  #expired(transaction: Transaction): boolean {
    const now = this.now();
    return (
      now - transaction.lastUsedAt > this.limits.transactionIdleMs ||
      now - transaction.begunAt > this.limits.transactionMaxMs
    );
  }

  /**
   * The transaction for one call, marked busy until `done`. Unknown, expired and other secrets'
   * transactions are TransactionNotFoundException; one already running a statement answers as
   * the service documents ("Transaction is still running a query").
   */
  async use(id: string, secretArn: string): Promise<Transaction> {
    const transaction = this.#open.get(id);
    if (transaction === undefined || transaction.secretArn !== secretArn) throw transactionNotFound(id);
    if (transaction.busy) throw transactionBusy();
    if (this.#expired(transaction)) {
      await this.#finish(transaction, 'ROLLBACK');
      throw transactionNotFound(id);
    }
    transaction.busy = true;
    transaction.lastUsedAt = this.now();
    return transaction;
  }

  done(transaction: Transaction): void {
    transaction.busy = false;
    transaction.lastUsedAt = this.now();
  }

  /** Ends a transaction taken with `use`. A COMMIT of an aborted transaction reports its failure. */
  async end(transaction: Transaction, how: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    const result = await this.#finish(transaction, how);
    if (how === 'COMMIT' && result === 'ROLLBACK') {
      // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK; the JDBC driver behind the
      // Data API raises this (pgjdbc QueryExecutorImpl, SQLSTATE 25P02 IN_FAILED_SQL_TRANSACTION).
      const cause =
        transaction.failure === undefined
          ? 'Transaction failure is not known (check server logs?)'
          : `Transaction failure cause is <<${transaction.failure}>>`;
      throw databaseError(
        `The database returned ROLLBACK, so the transaction cannot be committed. ${cause}; SQLState: 25P02`,
      );
    }
  }

  /** Runs COMMIT or ROLLBACK, forgets the transaction and gives its connection back. */
  async #finish(transaction: Transaction, how: 'COMMIT' | 'ROLLBACK'): Promise<string | undefined> {
    this.#open.delete(transaction.id);
    try {
      if (transaction.broken) return undefined;
      const result = await transaction.client.query(how);
      return result.command;
    } catch (error) {
      transaction.broken = true;
      throw error;
    } finally {
      transaction.client.release(transaction.broken ? true : undefined);
    }
  }

  /** Rolls back the transactions no call will use again (expired and not running a statement). */
  async sweep(): Promise<void> {
    const stale = [...this.#open.values()].filter((t) => !t.busy && this.#expired(t));
    await Promise.all(stale.map((t) => this.#finish(t, 'ROLLBACK').catch(() => undefined)));
  }

  /** Ends every transaction on `database` (or all of them): their connections are closed. */
  async abandon(database?: string): Promise<void> {
    const ending = [...this.#open.values()].filter(
      (t) => database === undefined || t.login.database === database,
    );
    for (const transaction of ending) {
      this.#open.delete(transaction.id);
      transaction.client.release(true);
    }
  }

  get size(): number {
    return this.#open.size;
  }
}
