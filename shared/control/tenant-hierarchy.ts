import * as z from 'zod';
import type { Page, TenantRecord, TenantStatus } from '#shared/control/control-records';
import { createdCursor, createdSortKey, cursorText } from '#shared/control/keyset';
import {
  type ChildRecord,
  depthOf,
  descendantsPattern,
  MAX_NAMED_CHILDREN,
  MAX_TENANT_DEPTH,
  pathIds,
  SEGMENT,
  type SubtreeMember,
} from '#shared/control/tenant-paths';
import { decodeCursor, pageOf } from '#shared/core/cursor';
import { BadRequest, Conflict, NotFound } from '#shared/errors';
import type { SqlRunner } from '#shared/ports/sql';

/**
 * Serialises the changes that read a tenant's place and write one: creating a child and moving a
 * subtree. Without it, two moves could each pass the cycle check and make a loop between them, and
 * a child created while its parent moves could keep the parent's old path.
 */
const HIERARCHY_LOCK = 7_262_903;

const pathCursor = z.tuple([cursorText]);

/** Parent–child relationships between tenants, kept in `parent_id` and `path` (migration 10). */
export class TenantHierarchy {
  constructor(private readonly sql: SqlRunner) {}

  /** Takes the hierarchy's lock for the rest of the caller's transaction. */
  async lock(): Promise<void> {
    await this.sql.query('select 1 as locked from pg_advisory_xact_lock(:lock)', { lock: HIERARCHY_LOCK });
  }

  /**
   * Where a new child of `parentId` goes, checked under the lock: the parent must be active and
   * not at the deepest level (a 400: the request asks for what the depth limit forbids).
   */
  async placeUnder(parentId: string): Promise<{ path: string; plan: string }> {
    await this.lock();
    const [parent] = await this.sql.query<{ path: string; status: TenantStatus; plan: string }>(
      'select path, status, plan from tenants where id = :parentId for share',
      { parentId },
    );
    if (!parent || parent.status === 'deleted') throw new NotFound('Tenant not found');
    if (parent.status !== 'active') throw new Conflict('The parent tenant is not active');
    if (depthOf(parent.path) >= MAX_TENANT_DEPTH) {
      throw new BadRequest(`A tenant may be at most ${MAX_TENANT_DEPTH} levels below its root`, {
        reason: 'depth_exceeded',
        maxDepth: MAX_TENANT_DEPTH,
      });
    }
    return { path: parent.path, plan: parent.plan };
  }

  /** The direct children (or, with `all`, every descendant, tree order) that are not offboarded. */
  async children(
    tenant: Pick<TenantRecord, 'id' | 'path'>,
    options: { all: boolean; limit: number; cursor: string | undefined },
  ): Promise<Page<ChildRecord>> {
    const columns = `id, name, status, parent_id as "parentId", created_at as "createdAt",
      (length(path) - length(:path)) / ${SEGMENT} as depth`;
    if (options.all) {
      const after = decodeCursor(pathCursor, options.cursor);
      const rows = await this.sql.query<ChildRecord & { path: string } & Record<string, unknown>>(
        `select ${columns}, path from tenants
          where path like :pattern and status <> 'deleted'
            and (:after::text is null or path > :after::text)
          order by path limit :limit`,
        {
          path: tenant.path,
          pattern: descendantsPattern(tenant.path),
          after: after?.[0] ?? null,
          limit: options.limit + 1,
        },
      );
      const page = pageOf(rows, options.limit, (row) => [row.path]);
      return { ...page, items: page.items.map(({ path: _path, ...child }) => child) };
    }
    const after = decodeCursor(createdCursor, options.cursor);
    const rows = await this.sql.query<ChildRecord & { sortKey: string } & Record<string, unknown>>(
      `select ${columns}, ${createdSortKey()} from tenants
        where parent_id = :tenantId and status <> 'deleted'
          and (:afterCreated::timestamptz is null or (created_at, id) > (:afterCreated::timestamptz, :afterId))
        order by created_at, id limit :limit`,
      {
        tenantId: tenant.id,
        path: tenant.path,
        afterCreated: after?.[0] ?? null,
        afterId: after?.[1] ?? '',
        limit: options.limit + 1,
      },
    );
    const page = pageOf(rows, options.limit, (row) => [row.sortKey, row.id]);
    return { ...page, items: page.items.map(({ sortKey: _sortKey, ...child }) => child) };
  }

  /**
   * Up to `limit` direct children that are not offboarded, oldest first: a tenant that has one
   * cannot be offboarded alone (its child would be orphaned).
   */
  async openChildren(tenantId: string, limit = MAX_NAMED_CHILDREN): Promise<string[]> {
    const rows = await this.sql.query<{ id: string }>(
      `select id from tenants where parent_id = :tenantId and status <> 'deleted'
        order by created_at, id limit :limit`,
      { tenantId, limit },
    );
    return rows.map((row) => row.id);
  }

  /** The tenant and every descendant, offboarded ones included, deepest first. */
  async subtree(tenantId: string): Promise<SubtreeMember[]> {
    return this.sql.query<SubtreeMember & Record<string, unknown>>(
      `select d.id, d.status, (length(d.path) - length(t.path)) / ${SEGMENT} as depth
         from tenants t join tenants d on d.id = t.id or d.path like replace(t.path, '_', '\\_') || '/%'
        where t.id = :tenantId
        order by length(d.path) desc, d.id`,
      { tenantId },
    );
  }

  /**
   * Moves a tenant (and its subtree) under `parentId`, or makes it a root (null). Refused with a
   * 409 when the new parent is the tenant or one of its descendants (a cycle), when the subtree
   * would sit deeper than MAX_TENANT_DEPTH, or when it or the new parent is being offboarded.
   */
  async move(tenantId: string, parentId: string | null): Promise<{ from: string | null; to: string | null }> {
    return this.sql.transaction(async (tx) => {
      const hierarchy = new TenantHierarchy(tx);
      await hierarchy.lock();
      const [tenant] = await tx.query<{ path: string; parentId: string | null; status: TenantStatus }>(
        `select path, parent_id as "parentId", status from tenants where id = :tenantId for update`,
        { tenantId },
      );
      if (!tenant || tenant.status === 'deleted') throw new NotFound('Tenant not found');
      // An offboarding plans its subtree when it starts: a tenant leaving it midway would be lost.
      if (tenant.status === 'deleting') throw new Conflict('The tenant is being offboarded');
      if (tenant.parentId === parentId) return { from: parentId, to: parentId };
      let newPath = tenantId;
      if (parentId !== null) {
        const [parent] = await tx.query<{ path: string; status: TenantStatus }>(
          'select path, status from tenants where id = :parentId for share',
          { parentId },
        );
        if (!parent || parent.status === 'deleted') throw new NotFound('Parent tenant not found');
        if (pathIds(parent.path).includes(tenantId)) {
          throw new Conflict('The new parent is this tenant or one of its descendants', { reason: 'cycle' });
        }
        if (parent.status === 'deleting') throw new Conflict('The new parent is being offboarded');
        newPath = `${parent.path}/${tenantId}`;
      }
      const [{ height } = { height: 0 }] = await tx.query<{ height: number }>(
        `select coalesce(max((length(path) - length(:path)) / ${SEGMENT}), 0) as height
           from tenants where path like :pattern and status <> 'deleted'`,
        { path: tenant.path, pattern: descendantsPattern(tenant.path) },
      );
      if (depthOf(newPath) + Number(height) > MAX_TENANT_DEPTH) {
        throw new Conflict(`The subtree would reach deeper than ${MAX_TENANT_DEPTH} levels below its root`, {
          reason: 'depth_exceeded',
          maxDepth: MAX_TENANT_DEPTH,
        });
      }
      await tx.execute(
        `update tenants
            set path = :newPath || substr(path, length(:oldPath) + 1),
                parent_id = case when id = :tenantId then :parentId else parent_id end,
                updated_at = case when id = :tenantId then now() else updated_at end
          where id = :tenantId or path like :pattern`,
        { tenantId, parentId, newPath, oldPath: tenant.path, pattern: descendantsPattern(tenant.path) },
      );
      return { from: tenant.parentId, to: parentId };
    });
  }
}
