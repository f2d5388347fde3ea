import { services } from '#shared/composition/runtime';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { inviteMember } from '#shared/tenancy/members';

export const handler = httpHandler(routes.inviteMember, async ({ grant, body }) => ({
  status: 201,
  body: await inviteMember(services(), grant, body),
}));
