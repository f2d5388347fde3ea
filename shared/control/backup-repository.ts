import * as z from 'zod';
import type { ManifestView } from '#shared/backups/manifest';
import { cursorText } from '#shared/control/keyset';
import { decodeCursor, pageOf } from '#shared/core/cursor';
import { Conflict, NotFound } from '#shared/errors';
import { SqlConstraintViolation, type SqlRunner, sqlJson } from '#shared/ports/sql';

export const BACKUP_STATUSES = ['running', 'completed', 'failed'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];
/** Who started it: a request, the daily schedule, or a clone (which takes a fresh backup). */
export type BackupTrigger = 'request' | 'schedule' | 'clone';

export interface BackupRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly status: BackupStatus;
  readonly trigger: BackupTrigger;
  /** The databases asked for; null for all of them. */
  readonly databaseIds: readonly string[] | null;
  readonly requestedBy: string | null;
  readonly startedAt: string;
  readonly completedAt: string | null;
  readonly reason: string | null;
  readonly manifest: ManifestView | null;
  readonly bytes: number | null;
  readonly expiresAt: string | null;
}

const COLUMNS = `id, tenant_id as "tenantId", status, trigger, database_ids as "databaseIds",
  requested_by as "requestedBy", started_at as "startedAt", completed_at as "completedAt", reason,
  manifest, bytes, expires_at as "expiresAt"`;

/** `(started_at, id)` of the last item, newest first; started_at to the microsecond. */
const startedCursor = z.tuple([z.iso.datetime(), cursorText]);
const STARTED_SORT_KEY = `to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "sortKey"`;

type Row = BackupRecord & Record<string, unknown>;
const toRecord = (row: Row): BackupRecord => ({
  ...row,
  bytes: row.bytes === null ? null : Number(row.bytes),
});

/** The tenants' backups in the control database (docs/backups.md); deleted ones stay as history. */
export class BackupRepository {
  constructor(private readonly sql: SqlRunner) {}

  /**
   * Records a running backup. A second running backup of the tenant, asked for or scheduled,
   * answers 409 `backup_running` (one at a time: each dumps every row of the tenant).
   */
  async create(input: {
    id: string;
    tenantId: string;
    trigger: BackupTrigger;
    databaseIds: readonly string[] | null;
    requestedBy: string | null;
    /** For a clone's backup (trigger `clone`): the new tenant and what it copies. */
    clone?: { tenantId: string; include: readonly string[] };
  }): Promise<BackupRecord> {
    try {
      const [row] = await this.sql.query<Row>(
        `insert into backups (id, tenant_id, status, trigger, database_ids, requested_by, clone_tenant_id, clone_include)
         values (:id, :tenantId, 'running', :trigger, :databaseIds::jsonb, :requestedBy, :cloneTenantId, :cloneInclude::jsonb)
         returning ${COLUMNS}`,
        {
          id: input.id,
          tenantId: input.tenantId,
          trigger: input.trigger,
          requestedBy: input.requestedBy,
          databaseIds: input.databaseIds === null ? null : sqlJson(input.databaseIds),
          cloneTenantId: input.clone?.tenantId ?? null,
          cloneInclude: input.clone ? sqlJson(input.clone.include) : null,
        },
      );
      if (!row) throw new Error('insert of a backup returned no row');
      return toRecord(row);
    } catch (error) {
      if (error instanceof SqlConstraintViolation && error.kind === 'unique') {
        throw new Conflict('A backup of this tenant is already running', { reason: 'backup_running' });
      }
      throw error;
    }
  }

  /** Any backup by id, deleted ones included (the workflow's steps read theirs). */
  async get(backupId: string): Promise<(BackupRecord & { deletedAt: string | null }) | null> {
    const [row] = await this.sql.query<Row & { deletedAt: string | null }>(
      `select ${COLUMNS}, deleted_at as "deletedAt" from backups where id = :backupId`,
      { backupId },
    );
    return row ? { ...toRecord(row), deletedAt: row.deletedAt } : null;
  }

  /** The tenant's backup; another tenant's, an unknown or a deleted one answers 404 alike. */
  async ownedBy(tenantId: string, backupId: string): Promise<BackupRecord> {
    const record = await this.get(backupId);
    if (!record || record.tenantId !== tenantId || record.deletedAt !== null) {
      throw new NotFound('Backup not found');
    }
    const { deletedAt: _deletedAt, ...backup } = record;
    return backup;
  }

  /** The tenant's backups that are not deleted, newest first, in pages. */
  async list(tenantId: string, limit: number, cursor: string | undefined) {
    const before = decodeCursor(startedCursor, cursor);
    const rows = await this.sql.query<Row & { sortKey: string }>(
      `select ${COLUMNS}, ${STARTED_SORT_KEY} from backups
        where tenant_id = :tenantId and deleted_at is null
          and (:beforeStarted::timestamptz is null or (started_at, id) < (:beforeStarted::timestamptz, :beforeId))
        order by started_at desc, id desc
        limit :limit`,
      { tenantId, beforeStarted: before?.[0] ?? null, beforeId: before?.[1] ?? '', limit: limit + 1 },
    );
    const page = pageOf(rows, limit, (row) => [row.sortKey, row.id]);
    return { ...page, items: page.items.map(({ sortKey: _sortKey, ...backup }) => toRecord(backup as Row)) };
  }

  /** Running → completed, with its manifest; false when it was not running (a re-run, or failed meanwhile). */
  async complete(
    backupId: string,
    input: { manifest: ManifestView; bytes: number; expiresAt: string | null },
  ): Promise<boolean> {
    const rows = await this.sql.query(
      `update backups set status = 'completed', completed_at = now(), manifest = :manifest::jsonb,
              bytes = :bytes, expires_at = :expiresAt::timestamptz
        where id = :backupId and status = 'running'
        returning id`,
      { backupId, manifest: sqlJson(input.manifest), bytes: input.bytes, expiresAt: input.expiresAt },
    );
    return rows.length === 1;
  }

  /** Running → failed, with the reason; false when it was not running. */
  async fail(backupId: string, reason: string): Promise<boolean> {
    const rows = await this.sql.query(
      `update backups set status = 'failed', completed_at = now(), reason = left(:reason, 2000)
        where id = :backupId and status = 'running'
        returning id`,
      { backupId, reason },
    );
    return rows.length === 1;
  }

  /**
   * The tenant's latest scheduled backup that is running or completed (not deleted): what the
   * schedule measures "backed up today" by. A failed one does not count, so it is tried again.
   */
  async latestScheduled(tenantId: string): Promise<BackupRecord | null> {
    const [row] = await this.sql.query<Row>(
      `select ${COLUMNS} from backups
        where tenant_id = :tenantId and trigger = 'schedule' and status in ('running', 'completed')
          and deleted_at is null
        order by started_at desc, id desc
        limit 1`,
      { tenantId },
    );
    return row ? toRecord(row) : null;
  }

  /**
   * Active tenants whose latest running or completed scheduled backup started before `since` (or
   * that have none), by id after `afterTenantId`, at most `limit`: one keyset page of the schedule.
   * Suspended, offboarded and still-provisioning tenants are never due.
   */
  async tenantsDue(input: { since: Date; afterTenantId: string | null; limit: number }): Promise<string[]> {
    const rows = await this.sql.query<{ id: string }>(
      `select t.id from tenants t
        where t.status = 'active' and (:after::text is null or t.id > :after::text)
          and not exists (
            select 1 from backups b
             where b.tenant_id = t.id and b.trigger = 'schedule' and b.status in ('running', 'completed')
               and b.deleted_at is null and b.started_at >= :since::timestamptz)
        order by t.id
        limit :limit`,
      { since: input.since.toISOString(), after: input.afterTenantId, limit: input.limit },
    );
    return rows.map((row) => row.id);
  }

  /**
   * Backups whose objects are to be deleted, by id after `afterBackupId`, at most `limit`: those
   * past their `expires_at`, and every backup of an offboarded tenant whatever its expiry. Running
   * ones never (their workflow still writes; it ends them completed or failed, and then they are).
   */
  async expired(input: { now: Date; afterBackupId: string | null; limit: number }): Promise<BackupRecord[]> {
    const rows = await this.sql.query<Row>(
      `select ${COLUMNS} from backups
        where deleted_at is null and status <> 'running'
          and (expires_at <= :now::timestamptz
               or exists (select 1 from tenants t where t.id = backups.tenant_id and t.status = 'deleted'))
          and (:after::text is null or id > :after::text)
        order by id
        limit :limit`,
      { now: input.now.toISOString(), after: input.afterBackupId, limit: input.limit },
    );
    return rows.map(toRecord);
  }

  /** The backup a clone is made from, with what the clone copies; null when `tenantId` is no clone. */
  async ofClone(
    tenantId: string,
  ): Promise<{ backupId: string; sourceTenantId: string; include: string[] } | null> {
    const [row] = await this.sql.query<{ backupId: string; sourceTenantId: string; include: string[] }>(
      `select id as "backupId", tenant_id as "sourceTenantId", clone_include as include
         from backups where clone_tenant_id = :tenantId`,
      { tenantId },
    );
    return row ?? null;
  }

  /** Records that the backup's objects are gone (retention, offboarding); the row stays. */
  async markDeleted(backupId: string): Promise<void> {
    await this.sql.execute(
      'update backups set deleted_at = coalesce(deleted_at, now()) where id = :backupId and status <> :running',
      { backupId, running: 'running' },
    );
  }
}
