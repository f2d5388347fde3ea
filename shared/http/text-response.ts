import { type Composed, composed } from '#shared/composition/handler';
import type { HttpHandler } from '#shared/http/handler';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/**
 * The shared handler answers JSON; a route that answers a CSV file returns its text as the body
 * with a text content type, and this unwraps the JSON string the chain made of it.
 */
export function withTextBodies(handler: Composed<HttpHandler>): Composed<HttpHandler> {
  return composed((services) => textBodies(handler.with(services)));
}

function textBodies(handler: HttpHandler): HttpHandler {
  return async (event, context) => {
    const response = await handler(event, context);
    const contentType = String(response.headers?.['content-type'] ?? '');
    if (
      contentType.startsWith('text/') &&
      typeof response.body === 'string' &&
      response.body.startsWith('"')
    ) {
      return { ...response, body: JSON.parse(response.body) as string };
    }
    return response;
  };
}
