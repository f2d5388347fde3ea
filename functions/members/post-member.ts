import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { inviteMember } from '#shared/tenancy/invitations';

export const handler = httpHandler(
  coreRoutes.inviteMember,
  async ({ grant, caller, body, requestId }, services) => ({
    status: 201,
    body: await inviteMember(services, grant, caller, body, requestId),
  }),
);
