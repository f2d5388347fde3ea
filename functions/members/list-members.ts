import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.listMembers, async ({ params, query }, services) => ({
  status: 200,
  body: await services.memberships.list(params.tenantId, query.limit, query.cursor, query.inherited),
}));
