import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { describeMe } from '#shared/tenancy/me';

export const handler = httpHandler(coreRoutes.getMe, async ({ caller }, services) => ({
  status: 200,
  body: await describeMe(services, caller),
}));
