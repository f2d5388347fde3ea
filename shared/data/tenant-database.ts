import type { DatabaseRegistry, TenantDatabaseRecord } from '#shared/control/database-registry';
import { PooledSqlRunner } from '#shared/data/pooled-sql';
import { Conflict } from '#shared/errors';
import type { DatabaseClusters } from '#shared/ports/clusters';
import type { SqlRunner } from '#shared/ports/sql';

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
): Promise<TenantDatabase> {
  const record = await deps.databases.placementFor(tenantId, databaseId);
  if (record.status !== 'active' || !record.clusterId || !record.secretArn) {
    throw new Conflict('The database is not active', { databaseStatus: record.status });
  }
  // The request's tenant (the record is known to be its own): it scopes the call's credentials.
  const sql = await tenantSqlOf(deps.clusters, {
    ...record,
    clusterId: record.clusterId,
    secretArn: record.secretArn,
    tenantId,
  });
  return { record, sql };
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
