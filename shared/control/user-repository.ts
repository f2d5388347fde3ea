import { accessRecordOf } from '#shared/control/access-chain';
import type { BuiltInRole } from '#shared/domain/permissions';
import { Conflict } from '#shared/errors';
import type { ActiveTenantSource } from '#shared/ports/active-tenant';
import { SqlConstraintViolation, type SqlRunner } from '#shared/ports/sql';

/**
 * The control database's users and the tenant each has chosen to act in. Which tenants a user
 * belongs to is the memberships' business; the active tenant only ever points at one of them.
 */
export class UserRepository implements ActiveTenantSource {
  constructor(private readonly sql: SqlRunner) {}

  async upsert(userId: string, email: string): Promise<void> {
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

  /**
   * Records a user not seen before; a known one keeps their email. A refusal (another account
   * holds the email) is left to the caller, whose context decides what it means.
   */
  async ensure(user: { userId: string; email: string }): Promise<void> {
    await this.sql.execute(
      `insert into users (id, email) values (:userId, :email) on conflict (id) do nothing`,
      user,
    );
  }

  /**
   * Records a sign-in (the pre-token-generation trigger, shared/identity/pre-token.ts): what the
   * compliance report's `lastSignInAt` shows. A user not recorded yet is left alone (the
   * post-confirmation trigger records users); an older time never replaces a newer one.
   */
  async recordSignIn(userId: string, at: Date): Promise<void> {
    await this.sql.execute(
      `update users set last_sign_in_at = greatest(coalesce(last_sign_in_at, :at::timestamptz), :at::timestamptz)
        where id = :userId`,
      { userId, at: at.toISOString() },
    );
  }

  async findByEmail(email: string): Promise<{ userId: string; email: string } | null> {
    const [row] = await this.sql.query<{ userId: string; email: string }>(
      'select id as "userId", email from users where lower(email) = lower(:email)',
      { email },
    );
    return row ?? null;
  }

  /**
   * The chosen tenant while a role of the user still applies to it (their own, or inherited from
   * an ancestor: the effective role), else their oldest membership.
   */
  async activeTenantOf(userId: string): Promise<{ tenantId: string; role: BuiltInRole } | null> {
    const [chosen] = await this.sql.query<{ tenantId: string | null }>(
      'select active_tenant_id as "tenantId" from users where id = :userId',
      { userId },
    );
    if (chosen?.tenantId) {
      const access = await accessRecordOf(this.sql, userId, chosen.tenantId);
      if (access && access.status !== 'deleted' && access.status !== 'deleting') {
        return { tenantId: chosen.tenantId, role: access.role };
      }
    }
    // The chosen tenant was answered above if it still applies: here only the oldest membership.
    const [row] = await this.sql.query<{ tenantId: string; role: BuiltInRole }>(
      `select m.tenant_id as "tenantId", m.role
         from memberships m
         join tenants t on t.id = m.tenant_id and t.status not in ('deleted', 'deleting')
        where m.user_id = :userId
        order by m.created_at, m.tenant_id
        limit 1`,
      { userId },
    );
    return row ?? null;
  }

  /** Chooses a tenant to act in: one where a role of the user applies (own or inherited). */
  async setActiveTenant(userId: string, tenantId: string): Promise<boolean> {
    const access = await accessRecordOf(this.sql, userId, tenantId);
    if (!access || access.status === 'deleted') return false;
    const changed = await this.sql.execute(
      'update users set active_tenant_id = :tenantId where id = :userId',
      {
        userId,
        tenantId,
      },
    );
    return changed === 1;
  }

  /** A user's first tenant becomes their active one; a choice they already made stands. */
  async setActiveTenantIfNone(userId: string, tenantId: string): Promise<void> {
    await this.sql.execute(
      'update users set active_tenant_id = coalesce(active_tenant_id, :tenantId) where id = :userId',
      {
        tenantId,
        userId,
      },
    );
  }

  /** A user who leaves a tenant no longer acts in it. */
  async clearActiveTenant(userId: string, tenantId: string): Promise<void> {
    await this.sql.execute(
      'update users set active_tenant_id = null where id = :userId and active_tenant_id = :tenantId',
      { tenantId, userId },
    );
  }

  /** Nobody acts in an offboarded tenant any more. */
  async clearActiveTenantForAll(tenantId: string): Promise<void> {
    await this.sql.execute('update users set active_tenant_id = null where active_tenant_id = :tenantId', {
      tenantId,
    });
  }
}
