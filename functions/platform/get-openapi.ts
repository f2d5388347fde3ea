import { httpHandler } from '#shared/http/handler';
import { openApiDocument } from '#shared/routes/openapi';
import { routeList, routes } from '#shared/routes/table';

// Built once per cold start: the route table does not change while the function runs.
const document = openApiDocument(routeList);

export const handler = httpHandler(routes.getOpenApi, async () => ({ status: 200, body: document }));
