import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { removeMember } from '#shared/tenancy/members';

export const handler = httpHandler(routes.removeMember, async ({ grant, params }, services) => {
  await removeMember(services, grant, params.userId);
  return { status: 204 };
});
