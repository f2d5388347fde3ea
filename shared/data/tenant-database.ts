import type { DatabaseRegistry, TenantDatabaseRecord } from '#shared/control/database-registry';
import { Conflict } from '#shared/errors';
import type { DatabaseClusters } from '#shared/ports/clusters';
import type { SqlRunner } from '#shared/ports/sql';
import { databaseOf } from '#shared/tenancy/lifecycle';

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
 * tenant's database id answers 404 exactly like an unknown one (`databaseOf`); a database that is
 * not active (provisioning, being dropped) answers 409.
 */
/**
 * Active databases seen recently, by id: placement and credentials do not change while a database
 * is active, so a page of rows need not ask the control database first. Kept 5 s (well inside the
 * 30 s access bound); dropping a database in this process forgets it at once.
 */
const ACTIVE_DATABASE_TTL_MS = 5_000;
const activeDatabases = new Map<string, { record: TenantDatabaseRecord; at: number }>();

export function forgetTenantDatabase(databaseId: string): void {
  activeDatabases.delete(databaseId);
}

async function activeRecordOf(deps: TenantDataDeps, tenantId: string, databaseId: string) {
  const cached = activeDatabases.get(databaseId);
  if (cached && cached.record.tenantId === tenantId && Date.now() - cached.at < ACTIVE_DATABASE_TTL_MS) {
    return cached.record;
  }
  const record = await databaseOf(deps, tenantId, databaseId);
  if (record.status === 'active') {
    if (activeDatabases.size > 10_000) activeDatabases.clear();
    activeDatabases.set(databaseId, { record, at: Date.now() });
  } else {
    activeDatabases.delete(databaseId);
  }
  return record;
}

export async function openTenantDatabase(
  deps: TenantDataDeps,
  tenantId: string,
  databaseId: string,
): Promise<TenantDatabase> {
  const record = await activeRecordOf(deps, tenantId, databaseId);
  if (record.status !== 'active' || !record.clusterId || !record.secretArn) {
    throw new Conflict('The database is not active', { databaseStatus: record.status });
  }
  const sql = await deps.clusters.asTenant(record.clusterId, record.databaseName, record.secretArn);
  return { record, sql };
}
