import type { DatabaseRegistry, TenantDatabaseRecord } from '#shared/control/database-registry';
import { PooledSqlRunner } from '#shared/data/pooled-sql';
import { Conflict, DatabaseMoving } from '#shared/errors';
import type { DatabaseClusters } from '#shared/ports/clusters';
import { type SqlParams, type SqlRow, type SqlRunner, sqlFailureOf } from '#shared/ports/sql';

export interface TenantDataDeps {
  readonly databases: DatabaseRegistry;
  readonly clusters: DatabaseClusters;
}

export interface TenantDatabase {
  readonly record: TenantDatabaseRecord;
  /** Speaks as the tenant's own role, to this database only. */
  readonly sql: SqlRunner;
}

/**
 * The tenant's database `databaseId`, opened as the tenant's own role with its secret. Another
 * tenant's database id answers 404 exactly like an unknown one; a database that is not active
 * (provisioning, being dropped) answers 409. Its record may be a few seconds old
 * (`DatabaseRegistry.placementFor`).
 */
export async function openTenantDatabase(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
  /** `changesTables`: the request changes table definitions, which a move refuses (409). */
  options: { readonly changesTables?: boolean } = {},
): Promise<TenantDatabase> {
  const record = await deps.databases.placementFor(tenantId, databaseId);
  if (record.status !== 'active' || !record.clusterId || !record.secretArn) {
    throw new Conflict('The database is not active', { databaseStatus: record.status });
  }
  // Read now, not from a cache: the move copies table definitions as they are when it starts.
  if (options.changesTables && (await deps.databases.movePhase(databaseId)) !== null) {
    throw new Conflict('The database is being moved; its tables can change once the move has finished', {
      reason: 'database_moving',
    });
  }
  // The request's tenant (the record is known to be its own): it scopes the call's credentials.
  const sql = await tenantSqlOf(deps.clusters, {
    ...record,
    clusterId: record.clusterId,
    secretArn: record.secretArn,
    tenantId,
  });
  return { record, sql: new MoveAwareSqlRunner(sql, () => writesHeldBack(deps, record)) };
}

/** How long a client should wait before it sends a write refused by a move's freeze again. */
export const MOVE_RETRY_AFTER_SECONDS = 2;

/**
 * Whether a write refused with insufficient_privilege met a move: the database's row writes are
 * frozen (shared/backups/move-copy.ts), or the record this request used names a source the move
 * has switched away from (a cached record, ≤ ACTIVE_DATABASE_TTL_MS old). Both read now.
 */
async function writesHeldBack(deps: TenantDataDeps, used: TenantDatabaseRecord): Promise<boolean> {
  if ((await deps.databases.movePhase(used.id)) === 'frozen') return true;
  const now = await deps.databases.get(used.id);
  return (
    now !== null &&
    (now.clusterId !== used.clusterId ||
      now.databaseName !== used.databaseName ||
      now.schemaName !== used.schemaName)
  );
}

/**
 * A tenant runner whose writes refused by a move's freeze (SQLSTATE 42501 while `heldBack` says
 * so) answer 503 `database_moving` with Retry-After: nothing was written, the client sends it
 * again. Any other failure passes unchanged.
 */
class MoveAwareSqlRunner implements SqlRunner {
  constructor(
    private readonly inner: SqlRunner,
    private readonly heldBack: () => Promise<boolean>,
  ) {}

  query<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.guarded(() => this.inner.query<T>(sql, params));
  }

  execute(sql: string, params?: SqlParams): Promise<number> {
    return this.guarded(() => this.inner.execute(sql, params));
  }

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.guarded(() =>
      this.inner.transaction((tx) => work(new MoveAwareSqlRunner(tx, this.heldBack))),
    );
  }

  private async guarded<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof DatabaseMoving) throw error;
      if (sqlFailureOf(error)?.sqlState === '42501' && (await this.heldBack())) {
        throw new DatabaseMoving(
          'The database is being moved: writes are paused for a moment; nothing was written, send it again',
          MOVE_RETRY_AFTER_SECONDS,
        );
      }
      throw error;
    }
  }
}

/** A placed database: its cluster and the secret its statements are sent with are known. */
export type PlacedDatabase = Pick<
  TenantDatabaseRecord,
  'tenantId' | 'databaseName' | 'schemaName' | 'roleName'
> & {
  readonly clusterId: string;
  readonly secretArn: string;
};

/**
 * The one way to speak to a tenant database as its tenant: a silo database with the tenant's own
 * secret (its login role); a pooled one with the pool's secret, every transaction switched to the
 * tenant's role and schema (PooledSqlRunner). `tenantId` scopes the call's credentials (a session
 * of the tenant-access role tagged with it): it must come from the verified request, or from the
 * record itself in the workflows.
 */
export async function tenantSqlOf(clusters: DatabaseClusters, database: PlacedDatabase): Promise<SqlRunner> {
  const sql = await clusters.asTenant({
    clusterId: database.clusterId,
    database: database.databaseName,
    secretArn: database.secretArn,
    tenantId: database.tenantId,
  });
  return database.schemaName === null
    ? sql
    : new PooledSqlRunner(sql, { role: database.roleName, schema: database.schemaName });
}
