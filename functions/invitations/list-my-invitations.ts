import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { listMyInvitations } from '#shared/tenancy/invitations';

export const handler = httpHandler(coreRoutes.listMyInvitations, async ({ caller, query }, services) => ({
  status: 200,
  body: await listMyInvitations(services, caller, query.limit, query.cursor),
}));
