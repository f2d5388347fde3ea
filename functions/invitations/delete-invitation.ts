import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { revokeInvitation } from '#shared/tenancy/invitations';

export const handler = httpHandler(routes.revokeInvitation, async ({ grant, params }, services) => {
  await revokeInvitation(services, grant, params.invitationId);
  return { status: 204 };
});
