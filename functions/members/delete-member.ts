import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { removeMember } from '#shared/tenancy/members';

export const handler = httpHandler(coreRoutes.removeMember, async ({ grant, params }, services) => {
  await removeMember(services, grant, params.userId);
  return { status: 204 };
});
