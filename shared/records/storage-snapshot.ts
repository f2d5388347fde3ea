import { logger } from '#shared/core/logger';
import { tenantSqlOf } from '#shared/data/tenant-database';
import { UsageRecorded } from '#shared/events/events';
import type { DatabaseClusters } from '#shared/ports/clusters';
import { type EventPublisher, type OutgoingEvent, outgoing } from '#shared/ports/event-publisher';
import { type SqlRunner, sqlFailureOf } from '#shared/ports/sql';

/** SQLSTATE 3D000, "database does not exist". */
const INVALID_CATALOG_NAME = '3D000';

export interface TenantStorage {
  readonly tenantId: string;
  readonly databases: number;
  readonly bytes: number;
}

/**
 * How many tenant databases one statement lists. The Data API refuses a result over 1 MiB
 * ("Database response exceeded size limit": https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html),
 * so the list is read in keyset pages: a row is a tenant id (22 characters) and a database name
 * (at most 63), so 500 rows stay far below it.
 */
export const TENANT_DATABASE_PAGE_SIZE = 500;

export interface ListedDatabase {
  readonly tenantId: string;
  /** Unique per tenant: the database's name, or a pooled one's schema (the keyset goes by it). */
  readonly name: string;
  /** The database to connect to (a pooled one's is its cluster's pool database). */
  readonly databaseName: string;
  /** A pooled database's schema and its tenant's role; null for a silo one. */
  readonly schemaName: string | null;
  readonly roleName: string | null;
  /** Null until the database is placed (and its tenant's secret made). */
  readonly clusterId: string | null;
  readonly secretArn: string | null;
}

/** A pooled database's bytes: its schema's tables with their indexes and TOAST. */
const SCHEMA_BYTES = `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = current_schema() and c.relkind in ('r', 'm')`;

/** The size of one listed database in bytes; it throws when the database is gone. */
export type DatabaseSize = (database: ListedDatabase) => Promise<number>;

/**
 * Each database measured as its own tenant (`select pg_database_size(current_database())`), with
 * the tenant's scoped credentials: the job needs neither the master nor any tenant's secret of
 * its own, and a database not yet placed (no cluster or secret) has no storage to count.
 */
export function sizeAsTenant(clusters: DatabaseClusters): DatabaseSize {
  return async (database) => {
    if (!database.clusterId || !database.secretArn) return 0;
    const pooled = database.schemaName !== null && database.roleName !== null;
    const sql = await tenantSqlOf(clusters, {
      tenantId: database.tenantId,
      clusterId: database.clusterId,
      secretArn: database.secretArn,
      databaseName: database.databaseName,
      schemaName: pooled ? database.schemaName : null,
      // Read only for a pooled database, which has one (a silo database is opened as its secret's user).
      roleName: database.roleName ?? '',
    });
    const [row] = await sql.query<{ bytes: string | number }>(
      pooled ? SCHEMA_BYTES : 'select pg_database_size(current_database())::bigint as bytes',
    );
    return Number(row?.bytes ?? 0);
  };
}

/**
 * The control DB's tenant databases in keyset pages on (tenant id, database name), or none while
 * that table does not exist. The database name column is `database_name` (the provisioning
 * migration); `name` is accepted too.
 */
async function* tenantDatabases(control: SqlRunner, pageSize: number): AsyncGenerator<ListedDatabase> {
  const columns = await control.query<{ column: string }>(
    `select column_name as "column" from information_schema.columns
      where table_schema = current_schema() and table_name = 'tenant_databases'`,
  );
  const names = new Set(columns.map((row) => row.column));
  const nameColumn = names.has('database_name') ? 'database_name' : names.has('name') ? 'name' : null;
  if (!nameColumn || !names.has('tenant_id')) return;
  const conditions = names.has('status') ? [`status not in ('deleted', 'deleting', 'failed')`] : [];
  const placement = (
    [
      ['cluster_id', 'clusterId'],
      ['secret_arn', 'secretArn'],
      ['schema_name', 'schemaName'],
      ['role_name', 'roleName'],
    ] as const
  )
    .map(([column, alias]) => `${names.has(column) ? column : 'null::text'} as "${alias}"`)
    .join(', ');
  // Pooled databases share their database's name: a schema names each (pooled-tier layout).
  const key = names.has('schema_name') ? `coalesce(schema_name, ${nameColumn})` : nameColumn;
  let after: ListedDatabase | null = null;
  for (;;) {
    const keyset = after ? [`(tenant_id, ${key}) > (:afterTenant::text, :afterName::text)`] : [];
    const where = [...conditions, ...keyset];
    const page: ListedDatabase[] = await control.query<ListedDatabase & Record<string, unknown>>(
      `select tenant_id as "tenantId", ${key} as name, ${nameColumn} as "databaseName", ${placement} from tenant_databases
        ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
        order by tenant_id, ${key}
        limit :pageSize`,
      { pageSize, ...(after ? { afterTenant: after.tenantId, afterName: after.name } : {}) },
    );
    yield* page;
    const last = page[page.length - 1];
    if (page.length < pageSize || !last) return;
    after = last;
  }
}

export interface MeasureOptions {
  /** Rows per page of the tenant database list (tests pass a small one). */
  readonly pageSize?: number;
}

/** Bytes and number of databases per tenant, measured now with `pg_database_size`. */
export async function measureTenantStorage(
  control: SqlRunner,
  sizeOf: DatabaseSize,
  options: MeasureOptions = {},
): Promise<TenantStorage[]> {
  const pageSize = options.pageSize ?? TENANT_DATABASE_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1)
    throw new Error(`page size ${pageSize} is not positive`);
  const perTenant = new Map<string, { databases: number; bytes: number }>();
  for await (const database of tenantDatabases(control, pageSize)) {
    let bytes = 0;
    try {
      bytes = await sizeOf(database);
    } catch (error) {
      // Listed but gone (dropped between the list and the size): counted without storage.
      // Anything else (a refused session, a paused cluster) fails the run, to be retried, rather
      // than publish a wrong zero.
      if (sqlFailureOf(error)?.sqlState !== INVALID_CATALOG_NAME) throw error;
      logger.warn('tenant database size unavailable', { tenantId: database.tenantId, error });
    }
    // A tenant's databases may straddle two pages: its totals are kept until every page is read.
    const current = perTenant.get(database.tenantId) ?? { databases: 0, bytes: 0 };
    perTenant.set(database.tenantId, { databases: current.databases + 1, bytes: current.bytes + bytes });
  }
  return [...perTenant].map(([tenantId, value]) => ({ tenantId, ...value }));
}

/**
 * The scheduled snapshot: one `storage_bytes` and one `databases` usage event per tenant, through
 * the bus like every other usage. Both are gauges: a day's value is its highest snapshot.
 */
export async function snapshotStorage(
  control: SqlRunner,
  sizeOf: DatabaseSize,
  publisher: EventPublisher,
  now: Date = new Date(),
  options: MeasureOptions = {},
): Promise<{ tenants: number; events: number; measured: TenantStorage[] }> {
  const measured = await measureTenantStorage(control, sizeOf, options);
  const at = now.toISOString();
  const events: OutgoingEvent[] = measured.flatMap((tenant) => [
    outgoing(UsageRecorded, {
      tenantId: tenant.tenantId,
      resourceType: 'storage_bytes',
      quantity: tenant.bytes,
      unit: 'bytes',
      at,
    }),
    outgoing(UsageRecorded, {
      tenantId: tenant.tenantId,
      resourceType: 'databases',
      quantity: tenant.databases,
      unit: 'count',
      at,
    }),
  ]);
  if (events.length === 0) return { tenants: 0, events: 0, measured };
  const { failed } = await publisher.publish(events);
  if (failed.length > 0) {
    // The job fails, so the scheduler retries it (and dead-letters it after that): nothing is dropped.
    throw new Error(`${failed.length} storage usage events were not published: ${failed[0]?.code}`);
  }
  return { tenants: measured.length, events: events.length, measured };
}
