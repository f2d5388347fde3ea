/**
 * The API's CORS configuration, one for the CDK app (the HTTP API's `corsPreflight`) and the local
 * gateway, so the console is refused locally exactly where a browser would refuse it in AWS.
 *
 * With CORS configured, API Gateway answers every preflight OPTIONS itself, adds the configured
 * headers to the integration's answers and ignores CORS headers the function returns; a request
 * gets them only when it has an `Origin` header (a preflight: `Origin` and
 * `Access-Control-Request-Method`):
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
 *
 * Tokens travel in the Authorization header, never in cookies: no credentials.
 */
export const API_CORS = {
  /** Request headers a client may send: the token, JSON bodies, retry-safe writes, bulk rows. */
  allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'prefer'],
  /**
   * Answer headers a script may read besides the CORS-safelisted ones: when to retry (429, 409
   * idempotency), the request id an error names, what `Prefer` did, the rate limits, a new
   * resource's address, a download's file name.
   */
  exposeHeaders: [
    'retry-after',
    'x-request-id',
    'preference-applied',
    'ratelimit',
    'ratelimit-policy',
    'location',
    'content-disposition',
  ],
  /** How long a browser may keep a preflight's answer. */
  maxAgeSeconds: 600,
} as const;

/**
 * What API Gateway adds for a request from `origin` (none when it has no Origin header, or the
 * origin is not allowed: the browser then refuses the answer). `'*'` allows every origin.
 */
export function corsHeaders(
  allowOrigins: readonly string[],
  origin: string | undefined,
): Record<string, string> {
  if (origin === undefined) return {};
  const any = allowOrigins.includes('*');
  if (!any && !allowOrigins.includes(origin)) return {};
  return {
    'access-control-allow-origin': any ? '*' : origin,
    'access-control-expose-headers': API_CORS.exposeHeaders.join(','),
    ...(any ? {} : { vary: 'origin' }),
  };
}

/** The answer to a preflight (an OPTIONS with Origin and Access-Control-Request-Method). */
export function preflightHeaders(
  allowOrigins: readonly string[],
  origin: string | undefined,
): Record<string, string> {
  const base = corsHeaders(allowOrigins, origin);
  if (Object.keys(base).length === 0) return {};
  return {
    ...base,
    'access-control-allow-methods': '*',
    'access-control-allow-headers': API_CORS.allowHeaders.join(','),
    'access-control-max-age': String(API_CORS.maxAgeSeconds),
  };
}
