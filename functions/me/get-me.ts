import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

export const handler = httpHandler(routes.getMe, async ({ caller }) => ({
  status: 200,
  body: {
    userId: caller.userId,
    email: caller.email,
    groups: caller.groups,
    activeTenantId: caller.activeTenantId,
    // Memberships come from the control database once identity and access land (issue 4).
    memberships: [],
  },
}));
