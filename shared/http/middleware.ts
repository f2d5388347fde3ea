import { randomUUID } from 'node:crypto';
import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { logger } from '#shared/core/logger';
import { assertBoundedJson, parsePart } from '#shared/core/validation';
import { type Caller, type Claims, callerFromClaims } from '#shared/domain/caller';
import {
  DomainError,
  Forbidden,
  NotFound,
  PayloadTooLarge,
  Unauthenticated,
  UnsupportedMediaType,
  ValidationFailed,
} from '#shared/errors';
import { DatabaseResuming } from '#shared/ports/sql';
import type { TenantAccessPolicy, TenantGrant } from '#shared/ports/tenant-access';
import type { RouteSpec } from '#shared/routes/types';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResponse = APIGatewayProxyStructuredResultV2;

/** Per-request state the middlewares build up for the handler. */
export interface RequestState {
  requestId: string;
  startedAt: number;
  caller: Caller | null;
  grant: TenantGrant | null;
  params: unknown;
  query: unknown;
  body: unknown;
  /**
   * The tenant a successful request acted on when its path names none and no grant was checked
   * (accepting an invitation): its audit record belongs in that tenant's log.
   */
  recordTenantId: string | null;
  /** Refused for its tenant's rate or month (shared/http/rate-limit.ts): not billed as an API call. */
  throttled: boolean;
  /** The RateLimit headers of an admitted request, added to its answer. */
  rateLimitHeaders: Record<string, string> | null;
}

export type HttpRequest = Request<HttpEvent, HttpResponse, Error>;

/** Keyed by the event object, which middy hands unchanged to every middleware and the handler. */
const states = new WeakMap<HttpEvent, RequestState>();

/**
 * The largest JSON body a route accepts unless it declares its own (`RouteSpec.bodyLimits`); API
 * Gateway allows 10 MB, no single-object route of ours needs that.
 */
export const MAX_BODY_BYTES = 256 * 1024;

export function stateOf(event: HttpEvent): RequestState {
  let state = states.get(event);
  if (!state) {
    state = {
      requestId: event.requestContext?.requestId ?? randomUUID(),
      startedAt: Date.now(),
      caller: null,
      grant: null,
      params: {},
      query: {},
      body: undefined,
      recordTenantId: null,
      throttled: false,
      rateLimitHeaders: null,
    };
    states.set(event, state);
  }
  return state;
}

const baseHeaders = (requestId: string) => ({
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-request-id': requestId,
});

export function jsonResponse(
  status: number,
  body: unknown,
  requestId: string,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    statusCode: status,
    headers: { ...baseHeaders(requestId), ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/**
 * How long a client should wait after a `database_resuming` 503 (the `Retry-After` header, in
 * seconds). A request to a paused Aurora Serverless v2 instance is cancelled with
 * DatabaseResumingException while the Data API resumes it ("Wait a few seconds and try again":
 * https://docs.aws.amazon.com/botocore/latest/reference/services/rds-data/client/exceptions/DatabaseResumingException.html),
 * and resuming takes up to about 15 s ("It can take up to 15 seconds for the database to resume":
 * https://aws.amazon.com/blogs/database/introducing-scaling-to-0-capacity-with-amazon-aurora-serverless-v2/;
 * the feature: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html).
 * A retry after 15 s finds it awake in the usual case.
 */
export const DATABASE_RESUMING_RETRY_AFTER_SECONDS = 15;

/**
 * Error mapping, registered outside every middleware but the request context, so that its
 * `onError` sees the errors of all of them. Domain errors become their status and code; an error
 * that carries `statusCode` and `expose` (middy's convention) keeps its status; a resuming
 * database is a 503 `database_resuming` with `Retry-After`; anything else is a generic 500 whose
 * body says nothing of the cause (no stack, no SQL, no names).
 */
export function errorMapping(): MiddlewareObj<HttpEvent, HttpResponse> {
  return {
    name: 'errorMapping',
    onError: (request: HttpRequest) => {
      const { requestId } = stateOf(request.event);
      const error = request.error;
      if (error instanceof DomainError) {
        const details = error.details ?? {};
        logger.info('request rejected', { status: error.statusCode, code: error.code });
        request.response = jsonResponse(
          error.statusCode,
          { error: { code: error.code, message: error.message, requestId, ...details } },
          requestId,
          { ...error.headers },
        );
        return;
      }
      const exposed = error as (Error & { statusCode?: number; expose?: boolean }) | null;
      if (exposed?.expose && typeof exposed.statusCode === 'number' && exposed.statusCode < 500) {
        request.response = jsonResponse(
          exposed.statusCode,
          { error: { code: 'request_error', message: exposed.message, requestId } },
          requestId,
        );
        return;
      }
      if (error instanceof DatabaseResuming) {
        // Not a fault of ours nor of the request: the statement never ran, so the same request
        // can simply be sent again once the cluster is awake.
        logger.warn('database resuming', { status: 503 });
        request.response = jsonResponse(
          503,
          {
            error: {
              code: 'database_resuming',
              message: 'The database is resuming after a pause; retry the request in a few seconds',
              requestId,
              retryAfterSeconds: DATABASE_RESUMING_RETRY_AFTER_SECONDS,
            },
          },
          requestId,
          { 'retry-after': String(DATABASE_RESUMING_RETRY_AFTER_SECONDS) },
        );
        return;
      }
      logger.error('unhandled error', error ?? 'unknown');
      request.response = jsonResponse(
        500,
        { error: { code: 'internal_error', message: 'Internal server error', requestId } },
        requestId,
      );
    },
  };
}

/** Request id and structured log keys; one access log line per request. */
export function requestContext(route: RouteSpec): MiddlewareObj<HttpEvent, HttpResponse> {
  const finish = (request: HttpRequest) => {
    const state = stateOf(request.event);
    logger.info('request', {
      operationId: route.operationId,
      status: request.response?.statusCode,
      latencyMs: Date.now() - state.startedAt,
    });
    logger.resetKeys();
  };
  return {
    name: 'requestContext',
    before: (request: HttpRequest) => {
      const state = stateOf(request.event);
      logger.appendKeys({ requestId: state.requestId, operationId: route.operationId });
    },
    after: finish,
    onError: finish,
  };
}

/**
 * Authentication and authorisation, from the route's declared access. The caller comes only from
 * the verified JWT claims the gateway passes; a tenant route checks the `{tenantId}` in the path
 * against the caller's memberships through the policy, never against the path alone.
 */
export function authorization(
  route: RouteSpec,
  tenantAccess: () => TenantAccessPolicy | undefined,
): MiddlewareObj<HttpEvent, HttpResponse> {
  return {
    name: 'authorization',
    before: async (request: HttpRequest) => {
      const state = stateOf(request.event);
      const access = route.access;
      if (access.kind === 'public') return;
      const claims = request.event.requestContext?.authorizer?.jwt?.claims as Claims | undefined;
      if (!claims) throw new Unauthenticated('A valid ID token is required');
      state.caller = callerFromClaims(claims);
      logger.appendKeys({ userId: state.caller.userId });
      if (access.kind === 'signed-in') return;
      if (access.kind === 'platform') {
        if (!access.groups.some((group) => state.caller?.groups.includes(group))) {
          throw new Forbidden('This route is for platform staff');
        }
        return;
      }
      const tenantId = request.event.pathParameters?.tenantId;
      const policy = tenantAccess();
      // Deny by default: a tenant route with no policy behind it, or without a tenant id, serves no one.
      if (!tenantId) throw new NotFound('Tenant not found');
      if (!policy) throw new Forbidden('Tenant access cannot be checked');
      logger.appendKeys({ tenantId });
      state.grant = await policy.authorize(state.caller, tenantId, access.permission, {
        whileSuspended: access.whileSuspended === true,
      });
    },
  };
}

function headerOf(event: HttpEvent, name: string): string | undefined {
  return Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];
}

/** The media type of a Content-Type header, lower case, without parameters (`text/csv`). */
const mediaTypeOf = (contentType: string) => (contentType.split(';')[0] ?? '').trim().toLowerCase();

/**
 * A text body (a CSV or NDJSON file): its content type must be one the route declares, and its
 * bytes valid UTF-8 (a leading byte order mark, as spreadsheets write, is dropped).
 */
function readTextBody(route: RouteSpec, event: HttpEvent, raw: Buffer): string {
  const accepted = (route.request.textBody ?? []).map((text) => text.mediaType as string);
  const contentType = headerOf(event, 'content-type');
  if (!contentType || !accepted.includes(mediaTypeOf(contentType))) {
    throw new UnsupportedMediaType(`Request body must be ${accepted.join(' or ')}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new ValidationFailed('Request body is not valid UTF-8', {
      details: [{ location: 'body', path: '', code: 'invalid_utf8', message: 'Malformed UTF-8' }],
    });
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

function readBody(route: RouteSpec, event: HttpEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  const limit = route.bodyLimits?.bytes ?? MAX_BODY_BYTES;
  if (raw.byteLength > limit) {
    throw new PayloadTooLarge(`Request body is larger than ${limit} bytes`, { limitBytes: limit });
  }
  if (route.request.textBody) return readTextBody(route, event, raw);
  const contentType = headerOf(event, 'content-type');
  if (contentType && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new UnsupportedMediaType('Request body must be application/json');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationFailed('Request body is not valid JSON', {
      details: [{ location: 'body', path: '', code: 'invalid_json', message: 'Malformed JSON' }],
    });
  }
  assertBoundedJson(body, 'body', route.bodyLimits?.jsonElements);
  return body;
}

/** zod validation of path, query and body against the route's schemas; 400 with the issues. */
export function validation(route: RouteSpec): MiddlewareObj<HttpEvent, HttpResponse> {
  return {
    name: 'validation',
    before: (request: HttpRequest) => {
      const state = stateOf(request.event);
      const { params, query, body } = route.request;
      if (params) state.params = parsePart(params, request.event.pathParameters ?? {}, 'params');
      if (query) state.query = parsePart(query, request.event.queryStringParameters ?? {}, 'query');
      if (body) state.body = parsePart(body, readBody(route, request.event), 'body');
    },
  };
}
