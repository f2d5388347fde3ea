import { heldMembersPage } from '#shared/control/membership-repository';
import type { BuiltInRole } from '#shared/domain/permissions';
import type { SqlRunner } from '#shared/ports/sql';

/**
 * Members per statement: a row is under 200 bytes (ids, email, role, two timestamps), so a page
 * stays far below the Data API's 1 MiB result
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html).
 */
export const COMPLIANCE_MEMBER_PAGE = 500;

/**
 * The most members one report lists (docs/compliance.md): ten pages, a response of about 1.5 MB
 * of JSON, well inside Lambda's 6 MB. A tenant with more is reported as incomplete, not cut silently.
 */
export const MAX_COMPLIANCE_MEMBERS = 5_000;

/** How many stale invitations the report names (it counts them all). */
export const MAX_NAMED_INVITATIONS = 20;

export interface ComplianceMemberRow {
  readonly userId: string;
  readonly email: string;
  readonly role: BuiltInRole;
  readonly joinedAt: string;
  readonly lastSignInAt: string | null;
  /** The ancestor the role is held in; null when held in the tenant itself. */
  readonly inheritedFrom: string | null;
}

/**
 * What the compliance report reads of the control database that no list route gives it whole:
 * every member whose role applies to the tenant with their last sign-in, and the stale pending
 * invitations (docs/compliance.md).
 */
export class ComplianceQueries {
  constructor(private readonly sql: SqlRunner) {}

  /**
   * Everyone whose role applies to the tenant (inherited access included, as `GET …/members?inherited=true`
   * lists them), by email, in keyset pages of COMPLIANCE_MEMBER_PAGE; at most `max`.
   */
  async members(
    tenantId: string,
    max: number = MAX_COMPLIANCE_MEMBERS,
  ): Promise<{ items: ComplianceMemberRow[]; complete: boolean }> {
    const items: ComplianceMemberRow[] = [];
    let after: { email: string; id: string } | null = null;
    while (items.length < max) {
      const limit = Math.min(COMPLIANCE_MEMBER_PAGE, max - items.length);
      const rows: (ComplianceMemberRow & { sortEmail: string } & Record<string, unknown>)[] =
        await this.sql.query(
          heldMembersPage(
            true,
            `u.id as "userId", u.email, m.role, m.created_at as "joinedAt",
             u.last_sign_in_at as "lastSignInAt",
             case when m.tenant_id = :tenantId then null else m.tenant_id end as "inheritedFrom"`,
          ),
          { tenantId, afterEmail: after?.email ?? null, afterId: after?.id ?? '', limit: limit + 1 },
        );
      const page = rows.slice(0, limit);
      for (const { sortEmail: _sortEmail, ...member } of page) items.push(member);
      const last = page[page.length - 1];
      if (rows.length <= limit || !last) return { items, complete: true };
      after = { email: last.sortEmail, id: last.userId };
    }
    return { items, complete: false };
  }

  /** Pending invitations sent before `before` (expired ones too: still pending, never revoked). */
  async stalePendingInvitations(
    tenantId: string,
    before: Date,
  ): Promise<{ count: number; oldest: { email: string; role: BuiltInRole; createdAt: string }[] }> {
    const rows = await this.sql.query<
      { email: string; role: BuiltInRole; createdAt: string; total: number } & Record<string, unknown>
    >(
      `select email, role, created_at as "createdAt", (count(*) over ())::int as total
         from invitations
        where tenant_id = :tenantId and status = 'pending' and created_at < :before::timestamptz
        order by created_at, id
        limit :limit`,
      { tenantId, before: before.toISOString(), limit: MAX_NAMED_INVITATIONS },
    );
    return {
      count: rows[0]?.total ?? 0,
      oldest: rows.map(({ total: _total, ...invitation }) => invitation),
    };
  }

  /** When the tenant's latest backup completed (deleted ones no longer count); null: none has. */
  async latestCompletedBackup(tenantId: string): Promise<string | null> {
    const [row] = await this.sql.query<{ at: string | null }>(
      `select max(completed_at) as at from backups
        where tenant_id = :tenantId and status = 'completed' and deleted_at is null`,
      { tenantId },
    );
    return row?.at ?? null;
  }
}
