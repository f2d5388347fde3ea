import * as z from 'zod';
import { createdCursor, createdSortKey, cursorText } from '#shared/control/keyset';
import { decodeCursor, pageOf } from '#shared/core/cursor';
import type { BuiltInRole, Permission } from '#shared/domain/permissions';
import { Conflict, NotFound } from '#shared/errors';
import { SqlConstraintViolation, type SqlRunner, sqlJson } from '#shared/ports/sql';

export const TENANT_STATUSES = [
  'provisioning',
  'active',
  'suspended',
  'deleting',
  'deleted',
  'failed',
] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export interface TenantRecord {
  readonly id: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly statusReason: string | null;
  readonly settings: Record<string, unknown>;
  readonly enabledModules: string[];
  readonly createdBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface MembershipOfUser {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly tenantStatus: TenantStatus;
  readonly role: BuiltInRole;
}

export interface MemberRecord {
  readonly userId: string;
  readonly email: string;
  readonly role: BuiltInRole;
  readonly customRoles: { id: string; name: string }[];
  readonly joinedAt: string;
}

export interface CustomRoleRecord {
  readonly id: string;
  readonly name: string;
  readonly permissions: Permission[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface TenantAccessRecord {
  readonly status: TenantStatus;
  readonly role: BuiltInRole;
  readonly customPermissions: Permission[];
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

const TENANT_COLUMNS = `id, name, status, status_reason as "statusReason", settings, enabled_modules as "enabledModules",
  created_by as "createdBy", created_at as "createdAt", updated_at as "updatedAt"`;

/** A member (`m` memberships, `u` users) with the custom roles assigned to them. */
const MEMBER_COLUMNS = `u.id as "userId", u.email, m.role, m.created_at as "joinedAt",
  coalesce((select jsonb_agg(jsonb_build_object('id', cr.id, 'name', cr.name) order by cr.name)
              from role_assignments ra join custom_roles cr on cr.id = ra.role_id
             where ra.tenant_id = m.tenant_id and ra.user_id = m.user_id), '[]'::jsonb) as "customRoles"`;

const tenantCursor = createdCursor;
const memberCursor = z.tuple([cursorText, cursorText]);

/** A list of ids as one JSON parameter (the Data API takes no arrays). */
const idsFromJson = (param: string) => `(select jsonb_array_elements_text(:${param}::jsonb))`;

/**
 * The control database's tenants, users, memberships and custom roles. Every statement is
 * parameterised; integrity (one membership per user and tenant, unique role names, cascades)
 * is the schema's job, and its refusals become 409s here.
 */
export class TenantDirectory {
  constructor(private readonly sql: SqlRunner) {}

  // Users

  async upsertUser(userId: string, email: string): Promise<void> {
    try {
      await this.sql.execute(
        `insert into users (id, email) values (:userId, :email)
         on conflict (id) do update set email = excluded.email`,
        { userId, email },
      );
    } catch (error) {
      if (error instanceof SqlConstraintViolation && error.kind === 'unique') {
        throw new Conflict('Another user already has this email');
      }
      throw error;
    }
  }

  async findUserByEmail(email: string): Promise<{ userId: string; email: string } | null> {
    const [row] = await this.sql.query<{ userId: string; email: string }>(
      'select id as "userId", email from users where lower(email) = lower(:email)',
      { email },
    );
    return row ?? null;
  }

  async activeTenantOf(userId: string): Promise<{ tenantId: string; role: BuiltInRole } | null> {
    // The chosen tenant while the user is still a member, else their oldest membership.
    const [row] = await this.sql.query<{ tenantId: string; role: BuiltInRole }>(
      `select m.tenant_id as "tenantId", m.role
         from memberships m
         join tenants t on t.id = m.tenant_id and t.status not in ('deleted', 'deleting')
         left join users u on u.id = m.user_id
        where m.user_id = :userId
        order by (m.tenant_id = u.active_tenant_id) desc, m.created_at, m.tenant_id
        limit 1`,
      { userId },
    );
    return row ?? null;
  }

  async setActiveTenant(userId: string, tenantId: string): Promise<boolean> {
    const changed = await this.sql.execute(
      `update users set active_tenant_id = :tenantId
        where id = :userId
          and exists (select 1 from memberships m join tenants t on t.id = m.tenant_id
                       where m.user_id = :userId and m.tenant_id = :tenantId and t.status <> 'deleted')`,
      { userId, tenantId },
    );
    return changed === 1;
  }

  async membershipsOf(userId: string): Promise<MembershipOfUser[]> {
    return this.sql.query<MembershipOfUser & Record<string, unknown>>(
      `select t.id as "tenantId", t.name as "tenantName", t.status as "tenantStatus", m.role
         from memberships m join tenants t on t.id = m.tenant_id
        where m.user_id = :userId and t.status <> 'deleted'
        order by m.created_at, t.id`,
      { userId },
    );
  }

  // Tenants

  /** The tenant and its owner's membership, in one transaction. */
  async createTenant(input: {
    tenantId: string;
    name: string;
    settings: Record<string, unknown>;
    owner: { userId: string; email: string };
    status: TenantStatus;
  }): Promise<TenantRecord> {
    return this.sql.transaction(async (tx) => {
      await tx.execute(
        `insert into users (id, email) values (:userId, :email) on conflict (id) do nothing`,
        input.owner,
      );
      const [tenant] = await tx.query<TenantRecord & Record<string, unknown>>(
        `insert into tenants (id, name, status, settings, created_by)
         values (:tenantId, :name, :status, :settings::jsonb, :userId)
         returning ${TENANT_COLUMNS}`,
        {
          tenantId: input.tenantId,
          name: input.name,
          status: input.status,
          settings: sqlJson(input.settings),
          userId: input.owner.userId,
        },
      );
      await tx.execute(
        `insert into memberships (tenant_id, user_id, role) values (:tenantId, :userId, 'owner')`,
        {
          tenantId: input.tenantId,
          userId: input.owner.userId,
        },
      );
      await tx.execute(
        'update users set active_tenant_id = coalesce(active_tenant_id, :tenantId) where id = :userId',
        {
          tenantId: input.tenantId,
          userId: input.owner.userId,
        },
      );
      return tenant as TenantRecord;
    });
  }

  async getTenant(tenantId: string): Promise<TenantRecord | null> {
    const [row] = await this.sql.query<TenantRecord & Record<string, unknown>>(
      `select ${TENANT_COLUMNS} from tenants where id = :tenantId`,
      { tenantId },
    );
    return row ?? null;
  }

  async listTenants(limit: number, cursor: string | undefined): Promise<Page<TenantRecord>> {
    const after = decodeCursor(tenantCursor, cursor);
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
    const changed = await this.sql.execute(
      `update tenants set status = :to, status_reason = :reason, updated_at = now()
        where id = :tenantId and status in ${idsFromJson('from')}`,
      { tenantId, to, reason, from: sqlJson(from) },
    );
    return changed === 1;
  }

  // Access

  async accessOf(userId: string, tenantId: string): Promise<TenantAccessRecord | null> {
    const [row] = await this.sql.query<TenantAccessRecord & Record<string, unknown>>(
      `select t.status, m.role,
              coalesce((select jsonb_agg(distinct p order by p)
                          from role_assignments ra
                          join custom_roles cr on cr.id = ra.role_id
                          cross join lateral jsonb_array_elements_text(cr.permissions) p
                         where ra.tenant_id = m.tenant_id and ra.user_id = m.user_id), '[]'::jsonb) as "customPermissions"
         from memberships m join tenants t on t.id = m.tenant_id
        where m.tenant_id = :tenantId and m.user_id = :userId`,
      { tenantId, userId },
    );
    return row ?? null;
  }

  // Members

  async listMembers(
    tenantId: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<MemberRecord>> {
    const after = decodeCursor(memberCursor, cursor);
    const rows = await this.sql.query<MemberRecord & { sortEmail: string } & Record<string, unknown>>(
      `select ${MEMBER_COLUMNS}, lower(u.email) as "sortEmail"
         from memberships m join users u on u.id = m.user_id
        where m.tenant_id = :tenantId
          and (:afterEmail::text is null or (lower(u.email), u.id) > (:afterEmail::text, :afterId))
        order by lower(u.email), u.id
        limit :limit`,
      { tenantId, afterEmail: after?.[0] ?? null, afterId: after?.[1] ?? '', limit: limit + 1 },
    );
    const page = pageOf(rows, limit, (row) => [row.sortEmail, row.userId]);
    return { ...page, items: page.items.map(({ sortEmail: _sortEmail, ...member }) => member) };
  }

  async getMember(tenantId: string, userId: string): Promise<MemberRecord | null> {
    const [row] = await this.sql.query<MemberRecord & Record<string, unknown>>(
      `select ${MEMBER_COLUMNS}
         from memberships m join users u on u.id = m.user_id
        where m.tenant_id = :tenantId and m.user_id = :userId`,
      { tenantId, userId },
    );
    return row ?? null;
  }

  async addMember(
    tenantId: string,
    user: { userId: string; email: string },
    role: BuiltInRole,
  ): Promise<void> {
    await this.sql.transaction(async (tx) => {
      try {
        await tx.execute(
          `insert into users (id, email) values (:userId, :email) on conflict (id) do nothing`,
          user,
        );
      } catch (error) {
        // Another account already holds this email (case, or a sign-up racing the invitation).
        if (error instanceof SqlConstraintViolation && error.kind === 'unique') {
          throw new Conflict('Another account already uses this email');
        }
        throw error;
      }
      try {
        await tx.execute(
          'insert into memberships (tenant_id, user_id, role) values (:tenantId, :userId, :role)',
          {
            tenantId,
            userId: user.userId,
            role,
          },
        );
      } catch (error) {
        if (error instanceof SqlConstraintViolation && error.kind === 'unique') {
          throw new Conflict('This user is already a member of the tenant');
        }
        throw error;
      }
    });
  }

  /**
   * Changes a member's role, or removes them (`role` null), refusing to leave the tenant without an
   * owner. The owners' rows are locked first, so two concurrent demotions cannot both pass.
   */
  async changeMembership(tenantId: string, userId: string, role: BuiltInRole | null): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const owners = await tx.query<{ userId: string }>(
        `select user_id as "userId" from memberships where tenant_id = :tenantId and role = 'owner' for update`,
        { tenantId },
      );
      const [current] = await tx.query<{ role: BuiltInRole }>(
        'select role from memberships where tenant_id = :tenantId and user_id = :userId for update',
        { tenantId, userId },
      );
      if (!current) throw new NotFound('Member not found');
      const losesOwner = current.role === 'owner' && role !== 'owner';
      if (losesOwner && owners.length <= 1) {
        throw new Conflict('The last owner can be neither removed nor demoted', { reason: 'last_owner' });
      }
      if (role === null) {
        await tx.execute('delete from memberships where tenant_id = :tenantId and user_id = :userId', {
          tenantId,
          userId,
        });
        await tx.execute(
          'update users set active_tenant_id = null where id = :userId and active_tenant_id = :tenantId',
          { tenantId, userId },
        );
      } else {
        await tx.execute(
          'update memberships set role = :role where tenant_id = :tenantId and user_id = :userId',
          {
            tenantId,
            userId,
            role,
          },
        );
      }
    });
  }

  // Custom roles

  async listRoles(
    tenantId: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<CustomRoleRecord>> {
    const after = decodeCursor(memberCursor, cursor);
    const rows = await this.sql.query<CustomRoleRecord & { sortName: string } & Record<string, unknown>>(
      `select id, name, permissions, created_at as "createdAt", updated_at as "updatedAt", lower(name) as "sortName"
         from custom_roles
        where tenant_id = :tenantId
          and (:afterName::text is null or (lower(name), id) > (:afterName::text, :afterId))
        order by lower(name), id
        limit :limit`,
      { tenantId, afterName: after?.[0] ?? null, afterId: after?.[1] ?? '', limit: limit + 1 },
    );
    const page = pageOf(rows, limit, (row) => [row.sortName, row.id]);
    return { ...page, items: page.items.map(({ sortName: _sortName, ...role }) => role) };
  }

  async getRole(tenantId: string, roleId: string): Promise<CustomRoleRecord | null> {
    const [row] = await this.sql.query<CustomRoleRecord & Record<string, unknown>>(
      `select id, name, permissions, created_at as "createdAt", updated_at as "updatedAt"
         from custom_roles where tenant_id = :tenantId and id = :roleId`,
      { tenantId, roleId },
    );
    return row ?? null;
  }

  async saveRole(
    tenantId: string,
    roleId: string,
    name: string,
    permissions: Permission[],
    mode: 'create' | 'replace',
  ): Promise<CustomRoleRecord> {
    try {
      const rows = await this.sql.query<CustomRoleRecord & Record<string, unknown>>(
        mode === 'create'
          ? `insert into custom_roles (id, tenant_id, name, permissions)
             values (:roleId, :tenantId, :name, :permissions::jsonb)
             returning id, name, permissions, created_at as "createdAt", updated_at as "updatedAt"`
          : `update custom_roles set name = :name, permissions = :permissions::jsonb, updated_at = now()
              where tenant_id = :tenantId and id = :roleId
             returning id, name, permissions, created_at as "createdAt", updated_at as "updatedAt"`,
        { tenantId, roleId, name, permissions: sqlJson(permissions) },
      );
      const [row] = rows;
      if (!row) throw new NotFound('Role not found');
      return row;
    } catch (error) {
      if (error instanceof SqlConstraintViolation && error.kind === 'unique') {
        throw new Conflict('A role with this name already exists');
      }
      throw error;
    }
  }

  async deleteRole(tenantId: string, roleId: string): Promise<boolean> {
    return (
      (await this.sql.execute('delete from custom_roles where tenant_id = :tenantId and id = :roleId', {
        tenantId,
        roleId,
      })) === 1
    );
  }

  async assignRole(tenantId: string, userId: string, roleId: string): Promise<void> {
    await this.sql.execute(
      `insert into role_assignments (tenant_id, user_id, role_id)
       select :tenantId, :userId, :roleId
        where exists (select 1 from memberships where tenant_id = :tenantId and user_id = :userId)
          and exists (select 1 from custom_roles where tenant_id = :tenantId and id = :roleId)
       on conflict do nothing`,
      { tenantId, userId, roleId },
    );
  }

  async unassignRole(tenantId: string, userId: string, roleId: string): Promise<boolean> {
    return (
      (await this.sql.execute(
        'delete from role_assignments where tenant_id = :tenantId and user_id = :userId and role_id = :roleId',
        { tenantId, userId, roleId },
      )) === 1
    );
  }

  /** Offboarding: memberships, their role assignments and the tenant's custom roles go. */
  async removeAllMembers(tenantId: string): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.execute('update users set active_tenant_id = null where active_tenant_id = :tenantId', {
        tenantId,
      });
      await tx.execute('delete from memberships where tenant_id = :tenantId', { tenantId });
      await tx.execute('delete from custom_roles where tenant_id = :tenantId', { tenantId });
    });
  }

  /** Replaces the name and/or merges settings; returns the updated tenant, or null if unknown. */
  async updateTenant(
    tenantId: string,
    change: { name?: string; settings: Record<string, unknown> },
  ): Promise<TenantRecord | null> {
    const [row] = await this.sql.query<TenantRecord & Record<string, unknown>>(
      `update tenants set name = coalesce(:name, name), settings = settings || :settings::jsonb, updated_at = now()
        where id = :tenantId and status <> 'deleted'
       returning ${TENANT_COLUMNS}`,
      { tenantId, name: change.name ?? null, settings: sqlJson(change.settings) },
    );
    return row ?? null;
  }
}
