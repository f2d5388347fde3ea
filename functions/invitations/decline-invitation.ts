import { services } from '#shared/composition/runtime';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { declineInvitation } from '#shared/tenancy/invitations';

export const handler = httpHandler(routes.declineInvitation, async ({ caller, params }) => {
  await declineInvitation(services(), caller, params.invitationId);
  return { status: 204 };
});
