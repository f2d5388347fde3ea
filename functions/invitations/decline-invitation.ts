import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { declineInvitation } from '#shared/tenancy/invitations';

export const handler = httpHandler(coreRoutes.declineInvitation, async ({ caller, params }, services) => {
  const tenantId = await declineInvitation(services, caller, params.invitationId);
  // Recorded in the inviting tenant's log, like the invitation it answers.
  return { status: 204, recordTenantId: tenantId };
});
