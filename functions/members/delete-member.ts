import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { services } from '#shared/runtime';
import { removeMember } from '#shared/tenancy/members';

export const handler = httpHandler(routes.removeMember, async ({ grant, params }) => {
  await removeMember(services(), grant, params.userId);
  return { status: 204 };
});
