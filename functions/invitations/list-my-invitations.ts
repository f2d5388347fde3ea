import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { listMyInvitations } from '#shared/tenancy/invitations';

export const handler = httpHandler(routes.listMyInvitations, async ({ caller, query }, services) => ({
  status: 200,
  body: await listMyInvitations(services, caller, query.limit, query.cursor),
}));
