import { ACCESS_CHAIN, accessRecordOf, ROLE_STRENGTH } from '#shared/control/access-chain';
import {
  MEMBER_COLUMNS,
  type MemberRecord,
  type MembershipOfUser,
  nameCursor,
  type Page,
  type TenantAccessRecord,
} from '#shared/control/control-records';
import { CustomRoleRepository } from '#shared/control/custom-role-repository';
import { UserRepository } from '#shared/control/user-repository';
import { decodeCursor, pageOf } from '#shared/core/cursor';
import type { BuiltInRole } from '#shared/domain/permissions';
import { Conflict, NotFound } from '#shared/errors';
import { SqlConstraintViolation, type SqlRunner } from '#shared/ports/sql';

/**
 * `held`: whose memberships count in `:tenantId` — the tenant's own, or (inherited) the strongest
 * one of each user along the access chain, the nearest tenant first among equals.
 */
function heldMemberships(inherited: boolean): string {
  return inherited
    ? `${ACCESS_CHAIN},
       held as (
         select distinct on (m.user_id) m.tenant_id, m.user_id
           from chain c join memberships m on m.tenant_id = c.id
          where c.applies
          order by m.user_id, ${ROLE_STRENGTH('m.role')} desc, c.ord desc
       )`
    : 'held as (select tenant_id, user_id from memberships where tenant_id = :tenantId)';
}

/**
 * A keyset page of the members `held` finds (see heldMemberships), by email then id, after
 * `:afterEmail`/`:afterId` (a null email: from the start), at most `:limit` rows: `columns` of the
 * membership `m` and user `u`, and `sortEmail`, the key the next page resumes after.
 */
export function heldMembersPage(inherited: boolean, columns: string): string {
  return `with ${heldMemberships(inherited)}
   select ${columns}, lower(u.email) as "sortEmail"
     from held h
     join memberships m on m.tenant_id = h.tenant_id and m.user_id = h.user_id
     join users u on u.id = m.user_id
    where (:afterEmail::text is null or (lower(u.email), u.id) > (:afterEmail::text, :afterId))
    order by lower(u.email), u.id
    limit :limit`;
}

/**
 * Who belongs to which tenant, in which built-in role. One membership per user and tenant is the
 * schema's job, and its refusal becomes a 409 here. A change that also touches users or custom
 * roles runs in one transaction, through those repositories built on it.
 */
export class MembershipRepository {
  constructor(private readonly sql: SqlRunner) {}

  /** The tenants a user belongs to (offboarded ones no longer count), oldest first. */
  async ofUser(userId: string): Promise<MembershipOfUser[]> {
    return this.sql.query<MembershipOfUser & Record<string, unknown>>(
      `select t.id as "tenantId", t.name as "tenantName", t.status as "tenantStatus", m.role
         from memberships m join tenants t on t.id = m.tenant_id
        where m.user_id = :userId and t.status <> 'deleted'
        order by m.created_at, t.id`,
      { userId },
    );
  }

  /**
   * What the access policy decides on: the tenant's state, the strongest role the user holds in it
   * or in an ancestor whose roles apply to it (where that role is held), and the rights of every
   * custom role assigned to them in those tenants. One query whatever the depth: the ancestors come
   * from the tenant's path (ACCESS_CHAIN).
   */
  async accessOf(userId: string, tenantId: string): Promise<TenantAccessRecord | null> {
    return accessRecordOf(this.sql, userId, tenantId);
  }

  /**
   * A page of members. With `inherited`, everyone whose role applies here: the tenant's own
   * members and those of the ancestors whose roles reach it, once each with the strongest role
   * (`inheritedFrom` naming the ancestor when that role is not held here).
   */
  async list(
    tenantId: string,
    limit: number,
    cursor: string | undefined,
    inherited = false,
  ): Promise<Page<MemberRecord>> {
    const after = decodeCursor(nameCursor, cursor);
    const rows = await this.sql.query<
      MemberRecord & { sortEmail: string; heldIn: string } & Record<string, unknown>
    >(heldMembersPage(inherited, `${MEMBER_COLUMNS}, m.tenant_id as "heldIn"`), {
      tenantId,
      afterEmail: after?.[0] ?? null,
      afterId: after?.[1] ?? '',
      limit: limit + 1,
    });
    const page = pageOf(rows, limit, (row) => [row.sortEmail, row.userId]);
    return {
      ...page,
      items: page.items.map(({ sortEmail: _sortEmail, heldIn, ...member }) =>
        heldIn === tenantId ? member : { ...member, inheritedFrom: heldIn },
      ),
    };
  }

  async get(tenantId: string, userId: string): Promise<MemberRecord | null> {
    const [row] = await this.sql.query<MemberRecord & Record<string, unknown>>(
      `select ${MEMBER_COLUMNS}
         from memberships m join users u on u.id = m.user_id
        where m.tenant_id = :tenantId and m.user_id = :userId`,
      { tenantId, userId },
    );
    return row ?? null;
  }

  /** An invited user becomes a member at once, recorded as a user first if they are new. */
  async add(tenantId: string, user: { userId: string; email: string }, role: BuiltInRole): Promise<void> {
    await this.sql.transaction(async (tx) => {
      try {
        await new UserRepository(tx).ensure(user);
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

  /** A new tenant's first member: the user who registered it. */
  async addOwner(tenantId: string, userId: string): Promise<void> {
    await this.sql.execute(
      `insert into memberships (tenant_id, user_id, role) values (:tenantId, :userId, 'owner')`,
      {
        tenantId,
        userId,
      },
    );
  }

  /**
   * Changes a member's role, or removes them (`role` null), refusing to leave the tenant without an
   * owner. The owners' rows are locked first, so two concurrent demotions cannot both pass.
   */
  async change(tenantId: string, userId: string, role: BuiltInRole | null): Promise<void> {
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
        await new UserRepository(tx).clearActiveTenant(userId, tenantId);
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

  /** Offboarding: memberships, their role assignments and the tenant's custom roles go. */
  async removeAll(tenantId: string): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await new UserRepository(tx).clearActiveTenantForAll(tenantId);
      await tx.execute('delete from memberships where tenant_id = :tenantId', { tenantId });
      await new CustomRoleRepository(tx).removeAllOf(tenantId);
    });
  }
}
