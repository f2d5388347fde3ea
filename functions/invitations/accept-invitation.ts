import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { acceptInvitation } from '#shared/tenancy/invitations';

/** The acceptance is recorded in the joined tenant's audit log: its admins see who joined. */
export const handler = httpHandler(routes.acceptInvitation, async ({ caller, params }, services) => {
  const membership = await acceptInvitation(services, caller, params.invitationId);
  return { status: 200, body: membership, recordTenantId: membership.tenantId };
});
