import type { Page } from '#shared/control/control-records';
import { newInvitationId } from '#shared/control/ids';
import { createdCursor, createdSortKey } from '#shared/control/keyset';
import { MembershipRepository } from '#shared/control/membership-repository';
import { decodeCursor, pageOf } from '#shared/core/cursor';
import type { BuiltInRole } from '#shared/domain/permissions';
import type { SqlRunner } from '#shared/ports/sql';

/** A pending invitation's state as seen by the tenant: `expired` is derived, never stored. */
export type InvitationState = 'pending' | 'expired';

export interface InvitationRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly email: string;
  readonly role: BuiltInRole;
  readonly status: InvitationState;
  readonly invitedBy: { readonly userId: string; readonly email: string | null };
  readonly createdAt: string;
  readonly expiresAt: string;
}

type Row = Omit<InvitationRecord, 'invitedBy'> & {
  invitedById: string;
  invitedByEmail: string | null;
  sortKey: string;
} & Record<string, unknown>;

/** Pending invitations only: accepted, declined and revoked ones are history, not invitations. */
const SELECT = `select i.id, i.tenant_id as "tenantId", t.name as "tenantName", i.email, i.role,
       case when i.expires_at <= now() then 'expired' else 'pending' end as status,
       i.invited_by as "invitedById", u.email as "invitedByEmail",
       i.created_at as "createdAt", i.expires_at as "expiresAt", ${createdSortKey('i.created_at')}
  from invitations i
  join tenants t on t.id = i.tenant_id and t.status not in ('deleted', 'deleting')
  left join users u on u.id = i.invited_by
 where i.status = 'pending'`;

const toRecord = ({ invitedById, invitedByEmail, sortKey: _sortKey, ...rest }: Row): InvitationRecord => ({
  ...rest,
  invitedBy: { userId: invitedById, email: invitedByEmail },
});

/**
 * Invitations to join a tenant, pending until the invitee consents. At most one pending invitation
 * per tenant and email (a partial unique index); expiry is compared with the database's clock.
 */
export class InvitationRepository {
  constructor(private readonly sql: SqlRunner) {}

  /**
   * Creates the pending invitation, or refreshes the one already pending for this email (new role,
   * inviter and expiry, same id), in one statement so two concurrent invitations leave one row.
   */
  async upsertPending(input: {
    tenantId: string;
    email: string;
    role: BuiltInRole;
    invitedBy: string;
    ttlSeconds: number;
  }): Promise<string> {
    const [row] = await this.sql.query<{ id: string }>(
      `insert into invitations (id, tenant_id, email, role, status, invited_by, expires_at)
       values (:id, :tenantId, :email, :role, 'pending', :invitedBy, now() + make_interval(secs => :ttlSeconds))
       on conflict (tenant_id, lower(email)) where status = 'pending'
       do update set role = excluded.role, invited_by = excluded.invited_by,
                     created_at = now(), expires_at = excluded.expires_at
       returning id`,
      { id: newInvitationId(), ...input },
    );
    if (!row) throw new Error('upsert of an invitation returned no row');
    return row.id;
  }

  /** Whether the email has a pending invitation to the tenant that can still be accepted. */
  async hasLivePending(tenantId: string, email: string): Promise<boolean> {
    const [row] = await this.sql.query(
      `select 1 as found from invitations
        where tenant_id = :tenantId and lower(email) = lower(:email) and status = 'pending' and expires_at > now()`,
      { tenantId, email },
    );
    return row !== undefined;
  }

  /** A tenant's pending invitation (expired ones included: the tenant may still revoke them). */
  async getForTenant(tenantId: string, id: string): Promise<InvitationRecord | null> {
    const [row] = await this.sql.query<Row>(`${SELECT} and i.tenant_id = :tenantId and i.id = :id`, {
      tenantId,
      id,
    });
    return row ? toRecord(row) : null;
  }

  /** A pending invitation addressed to this email (case-insensitive), expired or not. */
  async getForEmail(email: string, id: string): Promise<InvitationRecord | null> {
    const [row] = await this.sql.query<Row>(`${SELECT} and lower(i.email) = lower(:email) and i.id = :id`, {
      email,
      id,
    });
    return row ? toRecord(row) : null;
  }

  /** The tenant's pending invitations, expired ones included, oldest first. */
  listForTenant(tenantId: string, limit: number, cursor: string | undefined) {
    return this.page('and i.tenant_id = :tenantId', { tenantId }, limit, cursor);
  }

  /** What an invitee can still accept: pending, not expired, oldest first. */
  listForEmail(email: string, limit: number, cursor: string | undefined) {
    return this.page('and lower(i.email) = lower(:email) and i.expires_at > now()', { email }, limit, cursor);
  }

  private async page(
    filter: string,
    values: Record<string, string>,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<InvitationRecord>> {
    const after = decodeCursor(createdCursor, cursor);
    const rows = await this.sql.query<Row>(
      `${SELECT} ${filter}
          and (:afterCreated::timestamptz is null or (i.created_at, i.id) > (:afterCreated::timestamptz, :afterId))
        order by i.created_at, i.id
        limit :limit`,
      { ...values, afterCreated: after?.[0] ?? null, afterId: after?.[1] ?? '', limit: limit + 1 },
    );
    const page = pageOf(rows, limit, (row) => [row.sortKey, row.id]);
    return { ...page, items: page.items.map(toRecord) };
  }

  /**
   * Ends a pending invitation (`declined` or `revoked`); false when it was no longer pending (a
   * concurrent accept, decline or revoke got there first).
   */
  async close(id: string, status: 'declined' | 'revoked'): Promise<boolean> {
    const changed = await this.sql.execute(
      `update invitations set status = :status, decided_at = now() where id = :id and status = 'pending'`,
      { id, status },
    );
    return changed === 1;
  }

  /**
   * Accepts in one transaction: the invitation row is locked and must still be pending and
   * unexpired, then the membership is added (a 409 when the user already is a member) and the
   * invitation marked accepted. False when it was no longer acceptable.
   */
  async accept(invitation: InvitationRecord, user: { userId: string; email: string }): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const [locked] = await tx.query<{ id: string }>(
        `select id from invitations where id = :id and status = 'pending' and expires_at > now() for update`,
        { id: invitation.id },
      );
      if (!locked) return false;
      await new MembershipRepository(tx).add(invitation.tenantId, user, invitation.role);
      await tx.execute(`update invitations set status = 'accepted', decided_at = now() where id = :id`, {
        id: invitation.id,
      });
      return true;
    });
  }
}
