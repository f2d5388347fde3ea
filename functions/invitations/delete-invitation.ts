import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { revokeInvitation } from '#shared/tenancy/invitations';

export const handler = httpHandler(coreRoutes.revokeInvitation, async ({ grant, params }, services) => {
  await revokeInvitation(services, grant, params.invitationId);
  return { status: 204 };
});
