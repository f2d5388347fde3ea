import type { Context } from 'aws-lambda';
import type { HttpEvent } from '#shared/http/middleware';

export interface EventOptions {
  method?: string;
  path?: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  claims?: Record<string, string | number | boolean | string[]> | null;
}

export const memberClaims = (overrides: Record<string, string> = {}) => ({
  sub: 'user-1',
  email: 'alice@example.com',
  token_use: 'id',
  ...overrides,
});

/** An API Gateway HTTP API (payload v2) event, as the JWT authorizer would pass it. */
export function httpEvent(options: EventOptions = {}): HttpEvent {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const claims = options.claims === undefined ? memberClaims() : options.claims;
  return {
    version: '2.0',
    routeKey: `${options.method ?? 'GET'} ${options.path ?? '/'}`,
    rawPath: options.path ?? '/',
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
    queryStringParameters: options.query,
    pathParameters: options.pathParameters,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'vitest',
      },
      requestId: 'req-test',
      routeKey: `${options.method ?? 'GET'} ${options.path ?? '/'}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      authorizer:
        claims === null ? undefined : { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } },
    },
  } as HttpEvent;
}

/** A Lambda context without `getRemainingTimeInMillis`: middy's early timeout stays off. */
export const lambdaContext = { awsRequestId: 'aws-req', functionName: 'test' } as unknown as Context;
