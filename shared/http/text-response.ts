import { type Composed, composed } from '#shared/composition/handler';
import type { HttpHandler } from '#shared/http/handler';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** Content types whose body is a file's text (CSV, NDJSON), not a JSON document. */
const FILE_CONTENT_TYPE = /^(?:text\/|application\/x-ndjson\b)/i;

/**
 * The shared handler answers JSON; a route that answers a file (CSV, NDJSON) returns its text as
 * the body with the file's content type, and this unwraps the JSON string the chain made of it.
 */
export function withTextBodies(handler: Composed<HttpHandler>): Composed<HttpHandler> {
  return composed((services) => textBodies(handler.with(services)));
}

function textBodies(handler: HttpHandler): HttpHandler {
  return async (event, context) => {
    const response = await handler(event, context);
    const contentType = String(response.headers?.['content-type'] ?? '');
    if (
      FILE_CONTENT_TYPE.test(contentType) &&
      typeof response.body === 'string' &&
      response.body.startsWith('"')
    ) {
      return { ...response, body: JSON.parse(response.body) as string };
    }
    return response;
  };
}
