import { httpHandler } from '#shared/http/handler';
import { openApiDocument } from '#shared/routes/openapi';
import { routeList, routes } from '#shared/routes/table';

// Built once per cold start: the route table does not change while the function runs.
const document = openApiDocument(routeList, { title: 'Tenantry API', version: '0.1.0' });

export const handler = httpHandler(routes.getOpenApi, async () => ({ status: 200, body: document }));
