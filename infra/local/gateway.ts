import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '#shared/config';
import type { Claims } from '#shared/domain/caller';
import { corsHeaders, preflightHeaders } from '#shared/http/cors';
import type { HttpHandler } from '#shared/http/handler';
import type { HttpEvent } from '#shared/http/middleware';
import type { RouteSpec } from '#shared/routes/types';
import { listenOnLoopback } from './engines/ports.ts';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly routes: readonly RouteSpec[];
  /** Loads the handler of a route by its `functions/` entry. */
  readonly loadHandler: (entry: string) => Promise<HttpHandler>;
  /** Verifies a bearer token and returns its claims; throws when it is not valid. */
  readonly verifyToken: (token: string) => Promise<Claims>;
  readonly onRequest?: (line: { method: string; path: string; status: number; ms: number }) => void;
  /**
   * Origins allowed by CORS (the console's), as the CDK app gives the HTTP API's `corsPreflight`;
   * the headers are shared/http/cors.ts's. @default - no CORS: a browser on another origin is refused
   */
  readonly corsAllowOrigins?: readonly string[];
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** API Gateway's payload limit; larger requests are refused before any handler runs. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  readonly route: RouteSpec;
  readonly pattern: RegExp;
  readonly names: string[];
  /** Path segments without a variable: a request that two routes match goes to the one with more. */
  readonly literals: number;
}

function compile(route: RouteSpec): CompiledRoute {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const literals = route.path.split('/').filter((segment) => segment !== '' && !segment.includes('{')).length;
  return { route, pattern: new RegExp(`^${source}$`), names, literals };
}

/**
 * Most literal segments first: API Gateway routes `GET …/rows/export` to that route rather than to
 * `GET …/rows/{rowId}` ("Routing API requests":
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html), so
 * the local gateway must not depend on the order of the route table.
 */
const bySpecificity = (a: CompiledRoute, b: CompiledRoute) => b.literals - a.literals;

/** API Gateway passes claim arrays as `"[a b]"` and every value as a string; so do we. */
function asApiGatewayClaims(claims: Claims): Record<string, string> {
  return Object.fromEntries(
    Object.entries(claims)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, Array.isArray(value) ? `[${value.join(' ')}]` : String(value)]),
  );
}

function readBody(request: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_REQUEST_BYTES ? 'too-large' : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * The request path as sent, refused when a segment could change the route: API Gateway documents
 * that it URL-decodes path parameters before the integration sees them
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html) but
 * not what it does with dot segments or encoded slashes, so the local gateway neither resolves
 * nor decodes them: a `.` or `..` segment (also as `%2e`), a `%2F` or `%5C` inside a segment, or a
 * malformed escape is a 400 before any route is matched. (WHATWG `URL` would resolve `..` and
 * `%2e%2e` and so let an id change the route.)
 */
export function requestPath(target: string): { path: string } | { problem: string } {
  const path = target.split('?')[0] ?? '/';
  for (const segment of path.split('/')) {
    if (/%(2f|5c)/i.test(segment)) return { problem: 'encoded slash in a path segment' };
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return { problem: 'malformed percent escape' };
    }
    if (decoded === '.' || decoded === '..') return { problem: 'dot segment in the path' };
  }
  return { path };
}

function send(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(body);
}

/**
 * The local HTTP API: the same route table as API Gateway, the same JWT checks before any handler
 * runs, and the same payload v2 events handed to the same handlers.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const compiled = options.routes.map(compile).sort(bySpecificity);

  const allowOrigins = options.corsAllowOrigins ?? [];
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<number> => {
    const origin = request.headers.origin;
    // API Gateway answers a preflight itself, whatever the path, and adds the CORS headers to every
    // answer of a request with an allowed Origin (the function's own are ignored):
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
    if (
      request.method === 'OPTIONS' &&
      origin !== undefined &&
      request.headers['access-control-request-method']
    ) {
      response.writeHead(204, preflightHeaders(allowOrigins, origin));
      response.end();
      return 204;
    }
    for (const [name, value] of Object.entries(corsHeaders(allowOrigins, origin)))
      response.setHeader(name, value);
    const target = requestPath(request.url ?? '/');
    if ('problem' in target) {
      send(
        response,
        400,
        JSON.stringify({ error: { code: 'invalid_path', message: `Invalid path: ${target.problem}` } }),
      );
      return 400;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const pathname = target.path;
    const method = request.method ?? 'GET';
    const candidates = compiled.filter((c) => c.pattern.test(pathname));
    const match = candidates.find((c) => c.route.method === method);
    if (!match) {
      const status = candidates.length > 0 ? 405 : 404;
      send(
        response,
        status,
        JSON.stringify({
          error: {
            code: status === 404 ? 'not_found' : 'method_not_allowed',
            message: status === 404 ? 'Not Found' : 'Method Not Allowed',
          },
        }),
      );
      return status;
    }
    const body = await readBody(request);
    if (body === 'too-large') {
      send(
        response,
        413,
        JSON.stringify({ error: { code: 'payload_too_large', message: 'Request too large' } }),
      );
      return 413;
    }
    let claims: Claims | undefined;
    if (match.route.access.kind !== 'public') {
      const header = request.headers.authorization ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      try {
        if (!token) throw new Error('missing token');
        claims = await options.verifyToken(token);
      } catch {
        // API Gateway answers exactly this, without calling the function.
        send(response, 401, JSON.stringify({ message: 'Unauthorized' }), { 'www-authenticate': 'Bearer' });
        return 401;
      }
    }
    const values = match.pattern.exec(pathname)?.slice(1) ?? [];
    const pathParameters: Record<string, string> = {};
    match.names.forEach((name, i) => {
      pathParameters[name] = decodeURIComponent(values[i] ?? '');
    });
    const query: Record<string, string> = {};
    for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    const requestId = randomUUID();
    const routeKey = `${match.route.method} ${match.route.path}`;
    const event = {
      version: '2.0',
      routeKey,
      rawPath: pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
      pathParameters: match.names.length > 0 ? pathParameters : undefined,
      body: body.byteLength > 0 ? body.toString('utf8') : undefined,
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: {
          method,
          path: pathname,
          protocol: `HTTP/${request.httpVersion}`,
          sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey,
        stage: '$default',
        time: new Date().toISOString(),
        timeEpoch: Date.now(),
        ...(claims
          ? {
              authorizer: {
                principalId: '',
                integrationLatency: 0,
                jwt: { claims: asApiGatewayClaims(claims), scopes: [] },
              },
            }
          : {}),
      },
    } as unknown as HttpEvent;
    const deadline = Date.now() + DEFAULT_FUNCTION_TIMEOUT_SECONDS * 1000;
    const context = {
      awsRequestId: requestId,
      functionName: `tenantry-local-${match.route.handler.replace('/', '-')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    } as unknown as Context;
    const handler = await options.loadHandler(match.route.handler);
    const result = await handler(event, context);
    const status = result.statusCode ?? 200;
    const outHeaders = Object.fromEntries(
      Object.entries(result.headers ?? {})
        .filter(([name]) => !/^access-control-/i.test(name))
        .map(([name, value]) => [name, String(value)]),
    );
    send(response, status, result.body ?? '', outHeaders);
    return status;
  };

  const server: Server = createServer((request, response) => {
    const started = Date.now();
    handle(request, response)
      .then((status) =>
        options.onRequest?.({
          method: request.method ?? '',
          path: request.url ?? '',
          status,
          ms: Date.now() - started,
        }),
      )
      .catch(() => {
        // A handler that throws past its own error mapping: API Gateway answers a bare 500.
        if (!response.headersSent) send(response, 500, JSON.stringify({ message: 'Internal Server Error' }));
      });
  });
  server.keepAliveTimeout = 5_000;
  const port = await listenOnLoopback(server, options.port, 'HTTP API');
  return {
    url: `http://${options.host}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
