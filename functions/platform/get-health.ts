import { baseHttpConfigSchema, loadConfig } from '#shared/config';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';

const config = loadConfig(baseHttpConfigSchema);

export const handler = httpHandler(routes.getHealth, async () => ({
  status: 200,
  body: { status: 'ok', stage: config.TENANTRY_STAGE },
}));
