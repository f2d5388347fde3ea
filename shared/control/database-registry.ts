import { createdCursor, createdSortKey } from '#shared/control/keyset';
import { decodeCursor, pageOf } from '#shared/core/cursor';
import { Conflict } from '#shared/errors';
import { SqlConstraintViolation, type SqlRunner, sqlJson } from '#shared/ports/sql';

export const DATABASE_STATUSES = ['provisioning', 'active', 'deleting', 'deleted', 'failed'] as const;
export type DatabaseStatus = (typeof DATABASE_STATUSES)[number];

export interface TenantDatabaseRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly label: string;
  readonly isPrimary: boolean;
  readonly status: DatabaseStatus;
  readonly statusReason: string | null;
  readonly clusterId: string | null;
  readonly databaseName: string;
  readonly roleName: string;
  readonly secretArn: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const COLUMNS = `id, tenant_id as "tenantId", label, is_primary as "isPrimary", status, status_reason as "statusReason",
  cluster_id as "clusterId", database_name as "databaseName", role_name as "roleName", secret_arn as "secretArn",
  created_at as "createdAt", updated_at as "updatedAt"`;

/** The tenants' databases and where each is placed, in the control database. */
export class DatabaseRegistry {
  constructor(private readonly sql: SqlRunner) {}

  async create(input: {
    id: string;
    tenantId: string;
    label: string;
    isPrimary: boolean;
    databaseName: string;
    roleName: string;
  }): Promise<TenantDatabaseRecord> {
    try {
      const [row] = await this.sql.query<TenantDatabaseRecord & Record<string, unknown>>(
        `insert into tenant_databases (id, tenant_id, label, is_primary, status, database_name, role_name)
         values (:id, :tenantId, :label, :isPrimary, 'provisioning', :databaseName, :roleName)
         returning ${COLUMNS}`,
        input,
      );
      return row as TenantDatabaseRecord;
    } catch (error) {
      if (error instanceof SqlConstraintViolation && error.kind === 'unique') {
        throw new Conflict('The tenant already has a database with this label');
      }
      throw error;
    }
  }

  async get(databaseId: string): Promise<TenantDatabaseRecord | null> {
    const [row] = await this.sql.query<TenantDatabaseRecord & Record<string, unknown>>(
      `select ${COLUMNS} from tenant_databases where id = :databaseId`,
      { databaseId },
    );
    return row ?? null;
  }

  /** The tenant's databases that still exist or are being made or removed. */
  async ofTenant(tenantId: string): Promise<TenantDatabaseRecord[]> {
    return this.sql.query<TenantDatabaseRecord & Record<string, unknown>>(
      `select ${COLUMNS} from tenant_databases where tenant_id = :tenantId and status <> 'deleted'
        order by created_at, id`,
      { tenantId },
    );
  }

  async list(tenantId: string, limit: number, cursor: string | undefined) {
    const after = decodeCursor(createdCursor, cursor);
    const rows = await this.sql.query<TenantDatabaseRecord & { sortKey: string } & Record<string, unknown>>(
      `select ${COLUMNS}, ${createdSortKey()} from tenant_databases
        where tenant_id = :tenantId and status <> 'deleted'
          and (:afterCreated::timestamptz is null or (created_at, id) > (:afterCreated::timestamptz, :afterId))
        order by created_at, id
        limit :limit`,
      { tenantId, afterCreated: after?.[0] ?? null, afterId: after?.[1] ?? '', limit: limit + 1 },
    );
    const page = pageOf(rows, limit, (row) => [row.sortKey, row.id]);
    return { ...page, items: page.items.map(({ sortKey: _sortKey, ...database }) => database) };
  }

  /** Active databases per cluster, for placement. */
  async loadByCluster(): Promise<Map<string, number>> {
    const rows = await this.sql.query<{ clusterId: string; count: number }>(
      `select cluster_id as "clusterId", count(*)::int as count from tenant_databases
        where cluster_id is not null and status in ('provisioning', 'active') group by cluster_id`,
    );
    return new Map(rows.map((r) => [r.clusterId, r.count]));
  }

  async place(databaseId: string, clusterId: string): Promise<string> {
    // Placed once: a retried step keeps the first choice.
    const [row] = await this.sql.query<{ clusterId: string }>(
      `update tenant_databases set cluster_id = coalesce(cluster_id, :clusterId), updated_at = now()
        where id = :databaseId returning cluster_id as "clusterId"`,
      { databaseId, clusterId },
    );
    return row?.clusterId ?? clusterId;
  }

  async setSecret(tenantId: string, secretArn: string): Promise<void> {
    await this.sql.execute(
      `update tenant_databases set secret_arn = :secretArn, updated_at = now()
        where tenant_id = :tenantId and status <> 'deleted'`,
      { tenantId, secretArn },
    );
  }

  async transition(
    databaseId: string,
    from: readonly DatabaseStatus[],
    to: DatabaseStatus,
    reason: string | null = null,
  ): Promise<boolean> {
    const changed = await this.sql.execute(
      `update tenant_databases set status = :to, status_reason = :reason, updated_at = now()
        where id = :databaseId and status in (select jsonb_array_elements_text(:from::jsonb))`,
      { databaseId, to, reason, from: sqlJson(from) },
    );
    return changed === 1;
  }
}
