import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';

export const handler = httpHandler(coreRoutes.listMembers, async ({ params, query }, services) => ({
  status: 200,
  body: await services.memberships.list(params.tenantId, query.limit, query.cursor, query.inherited),
}));
