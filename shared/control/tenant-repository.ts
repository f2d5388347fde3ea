import {
  type Page,
  TENANT_COLUMNS,
  type TenantRecord,
  type TenantStatus,
} from '#shared/control/control-records';
import { createdCursor, createdSortKey } from '#shared/control/keyset';
import { MembershipRepository } from '#shared/control/membership-repository';
import { UserRepository } from '#shared/control/user-repository';
import { decodeCursor, pageOf } from '#shared/core/cursor';
import { DEFAULT_ISOLATION, type Isolation } from '#shared/domain/isolation';
import { DEFAULT_PLAN, type LimitOverrides } from '#shared/domain/plans';
import { type SqlRunner, sqlJson } from '#shared/ports/sql';

/** A list of ids as one JSON parameter (the Data API takes no arrays). */
const idsFromJson = (param: string) => `(select jsonb_array_elements_text(:${param}::jsonb))`;

/** The control database's tenants: their lifecycle status, name and settings. */
export class TenantRepository {
  constructor(private readonly sql: SqlRunner) {}

  /**
   * The tenant and its owner's membership, in one transaction (the caller's, when it runs in
   * one): the owner is recorded as a user, and acts in this tenant unless they already chose one.
   */
  async create(input: {
    tenantId: string;
    name: string;
    settings: Record<string, unknown>;
    owner: { userId: string; email: string };
    status: TenantStatus;
    /** The deployment's default plan (shared/domain/plans.ts). @default DEFAULT_PLAN */
    plan?: string;
    /** The plan's isolation (docs/isolation-modes.md). @default 'silo' */
    isolation?: Isolation;
    /** A child's parent and the parent's path (TenantHierarchy.placeUnder); none for a root. */
    parent?: { id: string; path: string };
  }): Promise<TenantRecord> {
    return this.sql.transaction(async (tx) => {
      const users = new UserRepository(tx);
      await users.ensure(input.owner);
      const [tenant] = await tx.query<TenantRecord & Record<string, unknown>>(
        `insert into tenants (id, name, status, settings, created_by, plan, isolation, parent_id, path)
         values (:tenantId, :name, :status, :settings::jsonb, :userId, :plan, :isolation, :parentId, :path)
         returning ${TENANT_COLUMNS}`,
        {
          parentId: input.parent?.id ?? null,
          path: input.parent ? `${input.parent.path}/${input.tenantId}` : input.tenantId,
          plan: input.plan ?? DEFAULT_PLAN,
          isolation: input.isolation ?? DEFAULT_ISOLATION,
          tenantId: input.tenantId,
          name: input.name,
          status: input.status,
          settings: sqlJson(input.settings),
          userId: input.owner.userId,
        },
      );
      await new MembershipRepository(tx).addOwner(input.tenantId, input.owner.userId);
      await users.setActiveTenantIfNone(input.owner.userId, input.tenantId);
      return tenant as TenantRecord;
    });
  }

  async get(tenantId: string): Promise<TenantRecord | null> {
    const [row] = await this.sql.query<TenantRecord & Record<string, unknown>>(
      `select ${TENANT_COLUMNS} from tenants where id = :tenantId`,
      { tenantId },
    );
    return row ?? null;
  }

  /** Every tenant, deleted ones included, oldest first. */
  async list(limit: number, cursor: string | undefined): Promise<Page<TenantRecord>> {
    const after = decodeCursor(createdCursor, cursor);
    const rows = await this.sql.query<TenantRecord & { sortKey: string } & Record<string, unknown>>(
      `select ${TENANT_COLUMNS},
              ${createdSortKey()}
         from tenants
        where (:afterCreated::timestamptz is null or (created_at, id) > (:afterCreated::timestamptz, :afterId))
        order by created_at, id
        limit :limit`,
      { afterCreated: after?.[0] ?? null, afterId: after?.[1] ?? '', limit: limit + 1 },
    );
    const page = pageOf(rows, limit, (row) => [row.sortKey, row.id]);
    return { ...page, items: page.items.map(({ sortKey: _sortKey, ...tenant }) => tenant) };
  }

  /** Moves a tenant to `to` only from one of `from`; returns false when it was in another state. */
  async transition(
    tenantId: string,
    from: readonly TenantStatus[],
    to: TenantStatus,
    reason: string | null = null,
  ) {
    return (await this.transitionAll([tenantId], from, to, reason)) === 1;
  }

  /** Moves every tenant of `tenantIds` that is in one of `from` to `to`, in one statement; how many moved. */
  async transitionAll(
    tenantIds: readonly string[],
    from: readonly TenantStatus[],
    to: TenantStatus,
    reason: string | null = null,
  ): Promise<number> {
    return this.sql.execute(
      `update tenants set status = :to, status_reason = :reason, updated_at = now()
        where id in ${idsFromJson('ids')} and status in ${idsFromJson('from')}`,
      { ids: sqlJson(tenantIds), to, reason, from: sqlJson(from) },
    );
  }

  /**
   * Sets the plan and replaces the overrides (the caller merged them); null for an unknown or
   * deleted tenant.
   */
  async setPlan(tenantId: string, plan: string, overrides: LimitOverrides): Promise<TenantRecord | null> {
    const [row] = await this.sql.query<TenantRecord & Record<string, unknown>>(
      `update tenants set plan = :plan, plan_overrides = :overrides::jsonb, updated_at = now()
        where id = :tenantId and status <> 'deleted'
       returning ${TENANT_COLUMNS}`,
      { tenantId, plan, overrides: sqlJson(overrides) },
    );
    return row ?? null;
  }

  /**
   * Replaces the name and/or whether ancestors' roles apply, and merges settings; returns the
   * updated tenant, or null if unknown.
   */
  async update(
    tenantId: string,
    change: { name?: string; inheritAccess?: boolean; settings: Record<string, unknown> },
  ): Promise<TenantRecord | null> {
    const [row] = await this.sql.query<TenantRecord & Record<string, unknown>>(
      `update tenants set name = coalesce(:name, name), settings = settings || :settings::jsonb,
              inherit_access = coalesce(:inheritAccess::boolean, inherit_access), updated_at = now()
        where id = :tenantId and status <> 'deleted'
       returning ${TENANT_COLUMNS}`,
      {
        tenantId,
        name: change.name ?? null,
        inheritAccess: change.inheritAccess ?? null,
        settings: sqlJson(change.settings),
      },
    );
    return row ?? null;
  }

  /**
   * Pins the tenant's future databases to a cluster (null unpins), only while that cluster is not
   * closed: one statement, so a pin cannot land on a cluster closed meanwhile. Null if the tenant
   * is unknown or deleted, or the cluster closed.
   */
  async pin(tenantId: string, clusterId: string | null): Promise<TenantRecord | null> {
    const [row] = await this.sql.query<TenantRecord & Record<string, unknown>>(
      `update tenants set pinned_cluster_id = :clusterId, updated_at = now()
        where id = :tenantId and status <> 'deleted'
          and (:clusterId::text is null or exists (select 1 from clusters where id = :clusterId and state <> 'closed'))
       returning ${TENANT_COLUMNS}`,
      { tenantId, clusterId },
    );
    return row ?? null;
  }

  /** A move's switch between isolations (shared/provisioning/move-steps.ts). */
  async setIsolation(tenantId: string, isolation: Isolation): Promise<void> {
    await this.sql.execute(
      'update tenants set isolation = :isolation, updated_at = now() where id = :tenantId',
      {
        tenantId,
        isolation,
      },
    );
  }
}
