import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { inviteMember } from '#shared/tenancy/invitations';

export const handler = httpHandler(
  routes.inviteMember,
  async ({ grant, caller, body, requestId }, services) => ({
    status: 201,
    body: await inviteMember(services, grant, caller, body, requestId),
  }),
);
