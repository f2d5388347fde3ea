import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { acceptInvitation } from '#shared/tenancy/invitations';

/** The acceptance is recorded in the joined tenant's audit log: its admins see who joined. */
export const handler = httpHandler(coreRoutes.acceptInvitation, async ({ caller, params }, services) => {
  const membership = await acceptInvitation(services, caller, params.invitationId);
  return { status: 200, body: membership, recordTenantId: membership.tenantId };
});
