import { services } from '#shared/composition/runtime';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { acceptInvitation } from '#shared/tenancy/invitations';

export const handler = httpHandler(routes.acceptInvitation, async ({ caller, params }) => ({
  status: 200,
  body: await acceptInvitation(services(), caller, params.invitationId),
}));
