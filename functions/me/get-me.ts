import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { describeMe } from '#shared/tenancy/me';

export const handler = httpHandler(routes.getMe, async ({ caller }, services) => ({
  status: 200,
  body: await describeMe(services, caller),
}));
