/**
 * The five Data API operations on the embedded PostgreSQL. Every call is checked in the order the
 * service works: the caller's permission for the action, the cluster, the secret (read with the
 * caller's permission), whether the cluster is resuming, the transaction, then the login and the
 * statement. https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_Operations.html
 */
import type pg from 'pg';
import type { Authorize } from '#infra/local/iam/access';
import {
  authorizeAction,
  type DataApiAction,
  type DatabaseCredentials,
  readCredentials,
  type SecretSource,
} from './credentials.ts';
import {
  DataApiError,
  databaseUnavailable,
  fromPostgres,
  httpEndpointNotEnabled,
  isPostgresError,
  resultTooLarge,
  resuming,
} from './errors.ts';
import type { DataApiLimits } from './limits.ts';
import { columnMetadata } from './metadata.ts';
import type { Login, PostgresPools } from './pools.ts';
import { assertSupported, formattedRecords, typedRecords } from './records.ts';
import {
  type BatchRequest,
  batchRequest,
  beginRequest,
  type ExecuteRequest,
  endRequest,
  executeRequest,
  type Target,
} from './requests.ts';
import { assertSingleStatement, type BoundStatement, bindParameters } from './sql-text.ts';
import { runStatement } from './statements.ts';
import type { Transaction, Transactions } from './transactions.ts';
import type { TypeCatalog } from './type-catalog.ts';

export interface ServiceDeps {
  readonly clusterArn: string;
  readonly postgres: { readonly host: string; readonly port: number };
  readonly secrets: SecretSource;
  readonly authorize: Authorize;
  readonly limits: DataApiLimits;
  readonly now: () => number;
  readonly pools: PostgresPools;
  readonly transactions: Transactions;
  readonly types: TypeCatalog;
  /** Until when (epoch ms, by `now`) every call answers DatabaseResumingException. */
  readonly pausedUntil: () => number;
}

export type OperationName =
  | 'Execute'
  | 'BatchExecute'
  | 'BeginTransaction'
  | 'CommitTransaction'
  | 'RollbackTransaction';

/**
 * A connection for one call. It goes back (to its pool, or to its transaction) once, and not
 * before every statement run on it has finished: after a timeout that is later than the answer.
 */
class Lease {
  #pending: Promise<void> = Promise.resolve();
  #freed = false;
  /** The connection failed (not a SQL error): it is destroyed rather than reused. */
  broken = false;

  constructor(
    readonly client: pg.PoolClient,
    readonly database: string,
    readonly transaction: Transaction | undefined,
    private readonly giveBack: (broken: boolean) => void,
  ) {}

  waitFor(finished: Promise<void>): void {
    this.#pending = this.#pending.then(() => finished);
  }

  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    void this.#pending.then(() => this.giveBack(this.broken));
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

/** A failure of the connection itself, not of a statement. */
function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && CONNECTION_CODES.has(code)) ||
    /Connection terminated|Client has encountered a connection error|connection .*closed/i.test(error.message)
  );
}

/**
 * PostgreSQL's failures as the Data API answers them; a failed connection is the writer being
 * unavailable. Anything else is a fault of the stand-in and is answered as a 500.
 */
function translate(error: unknown): unknown {
  if (error instanceof DataApiError) return error;
  if (isPostgresError(error)) return fromPostgres(error);
  if (isConnectionFailure(error)) return databaseUnavailable();
  return error;
}

const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);

export class DataApiService {
  constructor(private readonly deps: ServiceDeps) {}

  async handle(operation: OperationName, accessKeyId: string | undefined, body: unknown): Promise<object> {
    switch (operation) {
      case 'Execute':
        return this.#execute(accessKeyId, executeRequest(body, this.deps.limits.sqlLength));
      case 'BatchExecute':
        return this.#batch(accessKeyId, batchRequest(body, this.deps.limits.sqlLength));
      case 'BeginTransaction': {
        const request = beginRequest(body);
        const credentials = await this.#admit(accessKeyId, 'rds-data:BeginTransaction', request);
        const login = { ...credentials, database: request.database ?? credentials.user };
        const client = await this.#connect(login);
        try {
          return { transactionId: await this.deps.transactions.begin(client, login, request.secretArn) };
        } catch (error) {
          throw translate(error);
        }
      }
      case 'CommitTransaction':
      case 'RollbackTransaction': {
        const commit = operation === 'CommitTransaction';
        const request = endRequest(body);
        await this.#admit(
          accessKeyId,
          commit ? 'rds-data:CommitTransaction' : 'rds-data:RollbackTransaction',
          request,
        );
        const transaction = await this.deps.transactions.use(request.transactionId, request.secretArn);
        try {
          await this.deps.transactions.end(transaction, commit ? 'COMMIT' : 'ROLLBACK');
        } catch (error) {
          throw translate(error);
        }
        // The statuses the service returns: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.calling.html
        return { transactionStatus: commit ? 'Transaction Committed' : 'Rollback Complete' };
      }
    }
  }

  /** Permission, cluster, secret, pause: what every operation checks before touching a database. */
  async #admit(
    accessKeyId: string | undefined,
    action: DataApiAction,
    target: Target,
  ): Promise<DatabaseCredentials> {
    const { authorize, clusterArn, secrets } = this.deps;
    await authorizeAction(authorize, accessKeyId, action, clusterArn);
    if (target.resourceArn !== clusterArn) throw httpEndpointNotEnabled(target.resourceArn);
    const credentials = await readCredentials(authorize, secrets, accessKeyId, target.secretArn);
    if (this.deps.now() < this.deps.pausedUntil()) throw resuming(clusterArn);
    return credentials;
  }

  async #connect(login: Login): Promise<pg.PoolClient> {
    try {
      return await this.deps.pools.connect(login);
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * The connection a statement runs on: the transaction's, or a pooled one in `database`, which
   * defaults to the user's name. AWS does not read `dbname` from the secret: without `database`
   * the call fails with `ERROR: database "USERNAME" does not exist; SQLState: 3D000`
   * (https://github.com/aws/aws-cli/issues/8577), PostgreSQL's own default.
   */
  async #lease(
    credentials: DatabaseCredentials,
    request: { database: string | undefined; transactionId: string | undefined; secretArn: string },
  ): Promise<Lease> {
    if (request.transactionId !== undefined) {
      const transaction = await this.deps.transactions.use(request.transactionId, request.secretArn);
      return new Lease(transaction.client, transaction.login.database, transaction, (broken) => {
        if (broken) transaction.broken = true;
        this.deps.transactions.done(transaction);
      });
    }
    const login = { ...credentials, database: request.database ?? credentials.user };
    const client = await this.#connect(login);
    return new Lease(client, login.database, undefined, (broken) =>
      client.release(broken ? true : undefined),
    );
  }

  /** Runs one statement on the lease; its connection stays taken until the statement has finished. */
  async #run(
    lease: Lease,
    statement: BoundStatement,
    options: { timeoutMs: number; continueAfterTimeout: boolean },
  ): Promise<pg.QueryArrayResult> {
    const run = runStatement(lease.client, statement, { ...options, cancel: this.deps.postgres });
    lease.waitFor(run.finished);
    try {
      return await run.answer;
    } catch (error) {
      if (isPostgresError(error)) {
        if (lease.transaction !== undefined)
          lease.transaction.failure ??= `${error.severity ?? 'ERROR'}: ${error.message}`;
      } else if (isConnectionFailure(error)) lease.broken = true;
      throw translate(error);
    }
  }

  async #execute(accessKeyId: string | undefined, request: ExecuteRequest): Promise<object> {
    assertSingleStatement(request.sql);
    const credentials = await this.#admit(accessKeyId, 'rds-data:ExecuteStatement', request);
    const statement = bindParameters(request.sql, request.parameters);
    const lease = await this.#lease(credentials, request);
    try {
      const result = await this.#run(lease, statement, {
        timeoutMs: this.deps.limits.statementTimeoutMs,
        continueAfterTimeout: request.continueAfterTimeout,
      });
      // A transaction begun by hand outside BeginTransaction must not go back into the pool.
      if (lease.transaction === undefined && result.command === 'BEGIN') lease.broken = true;
      return await this.#answer(lease, request, result);
    } catch (error) {
      throw translate(error);
    } finally {
      lease.free();
    }
  }

  async #answer(lease: Lease, request: ExecuteRequest, result: pg.QueryArrayResult): Promise<object> {
    if (result.fields.length === 0) {
      // "The generatedFields data isn't supported by Aurora PostgreSQL" (ExecuteStatement, API reference).
      return { numberOfRecordsUpdated: result.rowCount ?? 0, generatedFields: [] };
    }
    const types = await this.deps.types.describe(
      lease.client,
      lease.database,
      result.fields.map((field) => field.dataTypeID),
    );
    assertSupported(types);
    const options = { ...request, rowBytes: this.deps.limits.rowBytes };
    const numberOfRecordsUpdated = DML.has(result.command) ? (result.rowCount ?? 0) : 0;
    const rows = result.rows as (string | null)[][];
    if (request.formatRecordsAs === 'JSON') {
      const labels = result.fields.map((field) => field.name);
      const formatted = formattedRecords(labels, types, rows, options);
      if (Buffer.byteLength(formatted) > this.deps.limits.formattedRecordsBytes) {
        throw resultTooLarge(this.deps.limits.formattedRecordsBytes);
      }
      // "records … columnMetadata: This field is blank if the formatRecordsAs parameter is set to JSON."
      return { formattedRecords: formatted, numberOfRecordsUpdated };
    }
    const records = typedRecords(types, rows, options);
    const metadata = request.includeResultMetadata
      ? { columnMetadata: await columnMetadata(lease.client, result.fields, types) }
      : {};
    return { records, ...metadata, numberOfRecordsUpdated };
  }

  /**
   * "The SQL statement is executed as many times as the number of parameter sets provided"
   * (BatchExecuteStatement, API reference); for Aurora PostgreSQL "the generated fields object is
   * empty" (data-api.differences.html). Outside a transaction the sets run in one implicit
   * transaction, all or nothing (the documentation does not say; this is the stricter reading).
   */
  async #batch(accessKeyId: string | undefined, request: BatchRequest): Promise<object> {
    assertSingleStatement(request.sql);
    const credentials = await this.#admit(accessKeyId, 'rds-data:BatchExecuteStatement', request);
    const statements = request.parameterSets.map((set) => bindParameters(request.sql, set));
    const lease = await this.#lease(credentials, request);
    const deadline = this.deps.now() + this.deps.limits.statementTimeoutMs;
    const implicit = lease.transaction === undefined && statements.length > 0;
    try {
      if (implicit) await lease.client.query('BEGIN');
      for (const statement of statements) {
        const timeoutMs = Math.max(1, deadline - this.deps.now());
        await this.#run(lease, statement, { timeoutMs, continueAfterTimeout: false });
      }
      if (implicit) await lease.client.query('COMMIT');
    } catch (error) {
      if (implicit) await lease.client.query('ROLLBACK').catch(() => undefined);
      throw translate(error);
    } finally {
      lease.free();
    }
    return { updateResults: statements.map(() => ({ generatedFields: [] })) };
  }
}
