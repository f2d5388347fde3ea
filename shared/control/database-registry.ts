import { createdCursor, createdSortKey } from '#shared/control/keyset';
import { LIVE_MOVE_PHASES, type LiveMovePhase } from '#shared/control/move-repository';
import { decodeCursor, pageOf } from '#shared/core/cursor';
import type { Isolation } from '#shared/domain/isolation';
import { Conflict, NotFound } from '#shared/errors';
import { SqlConstraintViolation, type SqlRunner, sqlJson } from '#shared/ports/sql';
import { placementNamesFor } from '#shared/provisioning/names';

/** `restoring`: made by the saga like a provisioning one, then loaded from a backup (docs/backups.md). */
export const DATABASE_STATUSES = [
  'provisioning',
  'restoring',
  'active',
  'deleting',
  'deleted',
  'failed',
] as const;
export type DatabaseStatus = (typeof DATABASE_STATUSES)[number];

export interface TenantDatabaseRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly label: string;
  readonly isPrimary: boolean;
  readonly status: DatabaseStatus;
  readonly statusReason: string | null;
  readonly clusterId: string | null;
  /** The database to connect to: the tenant's own (silo), or its cluster's pool database (pool). */
  readonly databaseName: string;
  /** A pooled database's schema inside `databaseName`; null for a silo database. */
  readonly schemaName: string | null;
  readonly roleName: string;
  readonly secretArn: string | null;
  /** The backup and its database this one was restored from (null for a provisioned one). */
  readonly restoredFrom: { readonly backupId: string; readonly databaseId: string } | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const COLUMNS = `id, tenant_id as "tenantId", label, is_primary as "isPrimary", status, status_reason as "statusReason",
  cluster_id as "clusterId", database_name as "databaseName", schema_name as "schemaName", role_name as "roleName", secret_arn as "secretArn",
  case when restored_from_backup is null then null
       else jsonb_build_object('backupId', restored_from_backup, 'databaseId', restored_from_database) end as "restoredFrom",
  created_at as "createdAt", updated_at as "updatedAt"`;

/** How long this process may serve a database as active without asking the control database. */
export const ACTIVE_DATABASE_TTL_MS = 5_000;

/**
 * Active databases this process read recently, by id: placement and credentials do not change
 * while a database is active, so a page of rows need not ask the control database first.
 *
 * Bounded, not checked on use: a status change made by this process (any `transition`) forgets
 * the entry at once, but a drop started by another function cannot reach this cache, so an entry
 * is trusted for `ACTIVE_DATABASE_TTL_MS` only (well inside the 30 s access bound) and then read
 * again. Checking on a miss alone would not help: the stale answer is a hit.
 */
export class ActiveDatabaseCache {
  readonly #entries = new Map<string, { record: TenantDatabaseRecord; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  get(databaseId: string): TenantDatabaseRecord | undefined {
    const entry = this.#entries.get(databaseId);
    if (!entry) return undefined;
    if (this.now() - entry.at < ACTIVE_DATABASE_TTL_MS) return entry.record;
    this.#entries.delete(databaseId);
    return undefined;
  }

  remember(record: TenantDatabaseRecord): void {
    if (record.status !== 'active') {
      this.#entries.delete(record.id);
      return;
    }
    if (this.#entries.size > 10_000) this.#entries.clear();
    this.#entries.set(record.id, { record, at: this.now() });
  }

  forget(databaseId: string): void {
    this.#entries.delete(databaseId);
  }
}

/** One per process, whichever registry (control runner or transaction) changes a status. */
const processActiveDatabases = new ActiveDatabaseCache();

/** The tenants' databases and where each is placed, in the control database. */
export class DatabaseRegistry {
  constructor(
    private readonly sql: SqlRunner,
    private readonly activeDatabases: ActiveDatabaseCache = processActiveDatabases,
  ) {}

  async create(input: {
    id: string;
    tenantId: string;
    label: string;
    isPrimary: boolean;
    /** The tenant's: a database of its own, or a schema in the pool database. */
    isolation: Isolation;
    roleName: string;
    /** A database restored from a backup is made `restoring` from the start (docs/backups.md). */
    restoredFrom?: { readonly backupId: string; readonly databaseId: string };
  }): Promise<TenantDatabaseRecord> {
    const { restoredFrom, isolation, ...fields } = input;
    try {
      const [row] = await this.sql.query<TenantDatabaseRecord & Record<string, unknown>>(
        `insert into tenant_databases (id, tenant_id, label, is_primary, status, database_name, schema_name,
                                       role_name, restored_from_backup, restored_from_database)
         values (:id, :tenantId, :label, :isPrimary, :status, :databaseName, :schemaName, :roleName,
                 :fromBackup, :fromDatabase)
         returning ${COLUMNS}`,
        {
          ...fields,
          ...placementNamesFor(input.id, isolation),
          status: restoredFrom ? 'restoring' : 'provisioning',
          fromBackup: restoredFrom?.backupId ?? null,
          fromDatabase: restoredFrom?.databaseId ?? null,
        },
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

  /** The database, if it belongs to the tenant; another tenant's id answers like an unknown one (404). */
  async ownedBy(tenantId: string, databaseId: string): Promise<TenantDatabaseRecord> {
    const record = await this.get(databaseId);
    if (!record || record.tenantId !== tenantId || record.status === 'deleted')
      throw new NotFound('Database not found');
    return record;
  }

  /**
   * Like `ownedBy`, to open the database for the tenant's data: an active database may come from
   * this process's recent reads (`ActiveDatabaseCache`), at most `ACTIVE_DATABASE_TTL_MS` old.
   */
  async placementFor(tenantId: string, databaseId: string): Promise<TenantDatabaseRecord> {
    const cached = this.activeDatabases.get(databaseId);
    if (cached && cached.tenantId === tenantId) return cached;
    const record = await this.ownedBy(tenantId, databaseId);
    this.activeDatabases.remember(record);
    return record;
  }

  /** The tenant's databases that still exist or are being made or removed. */
  async ofTenant(tenantId: string): Promise<TenantDatabaseRecord[]> {
    return this.sql.query<TenantDatabaseRecord & Record<string, unknown>>(
      `select ${COLUMNS} from tenant_databases where tenant_id = :tenantId and status <> 'deleted'
        order by created_at, id`,
      { tenantId },
    );
  }

  /**
   * The tenants of `tenantIds` that have a database still being provisioned or restored (one query
   * for a subtree).
   */
  async provisioningIn(tenantIds: readonly string[]): Promise<string[]> {
    const rows = await this.sql.query<{ tenantId: string }>(
      `select distinct tenant_id as "tenantId" from tenant_databases
        where status in ('provisioning', 'restoring') and tenant_id in (select jsonb_array_elements_text(:ids::jsonb))
        order by 1`,
      { ids: sqlJson(tenantIds) },
    );
    return rows.map((row) => row.tenantId);
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

  /** A pooled database's secret: its cluster's pool login secret (one database, not the tenant's all). */
  async setDatabaseSecret(databaseId: string, secretArn: string): Promise<void> {
    await this.sql.execute(
      'update tenant_databases set secret_arn = :secretArn, updated_at = now() where id = :databaseId',
      { databaseId, secretArn },
    );
  }

  /**
   * A move's switch (shared/provisioning/move-steps.ts): the database is now the copy on its new
   * cluster, database and schema, reached with its secret. Forgets this process's cached record.
   */
  async relocate(
    databaseId: string,
    to: { clusterId: string; databaseName: string; schemaName: string | null; secretArn: string },
  ): Promise<void> {
    await this.sql.execute(
      `update tenant_databases set cluster_id = :clusterId, database_name = :databaseName,
              schema_name = :schemaName, secret_arn = :secretArn, updated_at = now()
        where id = :databaseId`,
      { databaseId, ...to },
    );
    this.activeDatabases.forget(databaseId);
  }

  /** The phase of the database's live move (`copying` or `frozen`), read now; null when none. */
  async movePhase(databaseId: string): Promise<LiveMovePhase | null> {
    const [row] = await this.sql.query<{ phase: LiveMovePhase }>(
      `select phase from database_moves
        where database_id = :databaseId and phase in (select jsonb_array_elements_text(:live::jsonb))`,
      { databaseId, live: sqlJson(LIVE_MOVE_PHASES) },
    );
    return row?.phase ?? null;
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
    this.activeDatabases.forget(databaseId);
    return changed === 1;
  }
}
