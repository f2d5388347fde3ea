import type { DatabaseRegistry, TenantDatabaseRecord } from '#shared/control/database-registry';
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
  const sql = await deps.clusters.asTenant({
    clusterId: record.clusterId,
    database: record.databaseName,
    secretArn: record.secretArn,
    // The request's tenant (the record is known to be its own): it scopes the call's credentials.
    tenantId,
  });
  return { record, sql };
}
