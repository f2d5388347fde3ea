import type { ControlTenantAccess } from '#shared/control/access-policy';
import { type InvitationRecord, InvitationRepository } from '#shared/control/invitation-repository';
import type { MembershipRepository } from '#shared/control/membership-repository';
import type { UserRepository } from '#shared/control/user-repository';
import type { Caller } from '#shared/domain/caller';
import type { BuiltInRole } from '#shared/domain/permissions';
import { Conflict, EmailNotVerified, InvitationExpired, NotFound } from '#shared/errors';
import type { IdentityAdmin } from '#shared/ports/identity-admin';
import type { SqlRunner } from '#shared/ports/sql';
import type { TenantGrant } from '#shared/ports/tenant-access';
import { assertMayTouchRoles } from '#shared/tenancy/members';
import { announceThresholds, SYSTEM_ACTOR, type ThresholdDeps } from '#shared/tenancy/quota-thresholds';
import {
  assertRoomForOne,
  createWithinQuota,
  type QuotaDeps,
  tenantLimits,
  usedOf,
} from '#shared/tenancy/quotas';

/** How long an invitation can be accepted: 7 days, unless the composition root says otherwise. */
export const DEFAULT_INVITATION_TTL_SECONDS = 7 * 24 * 60 * 60;

export interface InvitationDeps extends QuotaDeps, ThresholdDeps {
  readonly users: UserRepository;
  readonly memberships: MembershipRepository;
  readonly invitations: InvitationRepository;
  readonly identity: IdentityAdmin;
  readonly tenantAccess: ControlTenantAccess;
  /** @default DEFAULT_INVITATION_TTL_SECONDS */
  readonly invitationTtlSeconds?: number;
}

/** What the tenant sees of its invitations. */
export const toTenantInvitation = ({ tenantId: _t, tenantName: _n, ...invitation }: InvitationRecord) =>
  invitation;

/** What the invitee sees: which tenant, which role, from whom, until when. */
export const toMyInvitation = (invitation: InvitationRecord) => ({
  id: invitation.id,
  tenantId: invitation.tenantId,
  tenantName: invitation.tenantName,
  role: invitation.role,
  invitedBy: invitation.invitedBy,
  createdAt: invitation.createdAt,
  expiresAt: invitation.expiresAt,
});

/**
 * Invites by email. Who may invite to which role is checked here, at invite time, against the
 * inviter's grant (not again at accept time). An unknown email gets an account in the user pool,
 * which sends the invitation email; nobody becomes a member until the invitee accepts. Inviting
 * an email that already has a pending invitation refreshes it (role, inviter, expiry; same id).
 */
export async function inviteMember(
  deps: InvitationDeps,
  grant: TenantGrant,
  inviter: Caller,
  input: { email: string; role: BuiltInRole },
  requestId: string = SYSTEM_ACTOR.requestId,
) {
  assertMayTouchRoles(grant, input.role);
  const email = input.email.toLowerCase();
  const known = (await deps.users.findByEmail(email)) ?? (await deps.identity.findByEmail(email));
  if (known && (await deps.memberships.get(grant.tenantId, known.userId))) {
    throw new Conflict('This user is already a member of the tenant');
  }
  // A pending invitation that can still be accepted is refreshed, not added: it is counted already.
  const adds = async (sql: SqlRunner) =>
    !(await new InvitationRepository(sql).hasLivePending(grant.tenantId, email));
  // Refused before the user pool hears of the invitee (the transaction below decides in the end).
  if (await adds(deps.control)) {
    const { limits } = await tenantLimits(deps, grant.tenantId);
    assertRoomForOne('members', limits.members, await usedOf(deps.control, grant.tenantId, 'members'));
  }
  if (!known) await deps.identity.invite(email);
  const { result: id, use } = await createWithinQuota(
    deps,
    grant.tenantId,
    'members',
    (tx) =>
      new InvitationRepository(tx).upsertPending({
        tenantId: grant.tenantId,
        email,
        role: input.role,
        invitedBy: inviter.userId,
        ttlSeconds: deps.invitationTtlSeconds ?? DEFAULT_INVITATION_TTL_SECONDS,
      }),
    adds,
  );
  await announceThresholds(deps, use, { userId: inviter.userId, requestId });
  const invitation = await deps.invitations.getForTenant(grant.tenantId, id);
  if (!invitation) throw new NotFound('Invitation not found');
  return toTenantInvitation(invitation);
}

/** A revoked invitation is gone: accepting it answers 404, like an unknown one. */
export async function revokeInvitation(deps: InvitationDeps, grant: TenantGrant, id: string): Promise<void> {
  const invitation = await deps.invitations.getForTenant(grant.tenantId, id);
  if (!invitation) throw new NotFound('Invitation not found');
  // As for removing a member: an owner invitation is an owner's to take back.
  assertMayTouchRoles(grant, invitation.role);
  if (!(await deps.invitations.close(id, 'revoked'))) throw new NotFound('Invitation not found');
}

/** Only a verified email proves the caller owns it; anything addressed to it waits until then. */
function verifiedEmailOf(caller: Caller): string {
  if (!caller.emailVerified) throw new EmailNotVerified('Verify your email address to see its invitations');
  return caller.email;
}

/** The caller's own invitation: someone else's answers exactly like an unknown id. */
async function ownInvitation(deps: InvitationDeps, caller: Caller, id: string): Promise<InvitationRecord> {
  const invitation = await deps.invitations.getForEmail(verifiedEmailOf(caller), id);
  if (!invitation) throw new NotFound('Invitation not found');
  if (invitation.status === 'expired') {
    throw new InvitationExpired('This invitation has expired; ask the tenant to invite you again');
  }
  return invitation;
}

export async function listMyInvitations(
  deps: InvitationDeps,
  caller: Caller,
  limit: number,
  cursor: string | undefined,
) {
  const page = await deps.invitations.listForEmail(verifiedEmailOf(caller), limit, cursor);
  return { ...page, items: page.items.map(toMyInvitation) };
}

/** The caller joins the tenant with the invited role; the membership is theirs at once. */
export async function acceptInvitation(deps: InvitationDeps, caller: Caller, id: string) {
  const invitation = await ownInvitation(deps, caller, id);
  const accepted = await deps.invitations.accept(invitation, { userId: caller.userId, email: caller.email });
  // Expired, declined or revoked between our read and the lock.
  if (!accepted) throw new NotFound('Invitation not found');
  deps.tenantAccess.invalidate(invitation.tenantId, caller.userId);
  const membership = (await deps.memberships.ofUser(caller.userId)).find(
    (m) => m.tenantId === invitation.tenantId,
  );
  if (!membership) throw new NotFound('Tenant not found');
  return membership;
}

/** The declined invitation's tenant. */
export async function declineInvitation(deps: InvitationDeps, caller: Caller, id: string): Promise<string> {
  const invitation = await ownInvitation(deps, caller, id);
  if (!(await deps.invitations.close(invitation.id, 'declined'))) throw new NotFound('Invitation not found');
  return invitation.tenantId;
}
