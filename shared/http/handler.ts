import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Composed, composed } from '#shared/composition/handler';
import type { Services } from '#shared/composition/services';
import { logger } from '#shared/core/logger';
import type { Caller } from '#shared/domain/caller';
import { idempotency, idempotentAttemptOf, replayOf } from '#shared/http/idempotency';
import {
  authorization,
  errorMapping,
  type HttpEvent,
  type HttpResponse,
  jsonResponse,
  requestContext,
  stateOf,
  validation,
} from '#shared/http/middleware';
import { rateLimiting } from '#shared/http/rate-limit';
import { storageQuota } from '#shared/http/storage-quota';
import { telemetry } from '#shared/http/telemetry';
import type { IdempotentAttempt } from '#shared/ports/idempotency';
import type { TelemetrySink } from '#shared/ports/telemetry';
import type { TenantAccessPolicy, TenantGrant } from '#shared/ports/tenant-access';
import type { RouteBody, RouteParams, RouteQuery, RouteSpec } from '#shared/routes/types';

/** What a handler sees: typed, validated input and an authenticated, authorised caller. */
export interface Input<R extends RouteSpec> {
  readonly params: RouteParams<R>;
  readonly query: RouteQuery<R>;
  readonly body: RouteBody<R>;
  readonly caller: R['access'] extends { kind: 'public' } ? Caller | null : Caller;
  readonly grant: R['access'] extends { kind: 'tenant' } ? TenantGrant : null;
  readonly requestId: string;
  /** Request headers, names in lower case (API Gateway's payload v2 already lowers them). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /**
   * The attempt this request runs under its `Idempotency-Key` (an `idempotent` route, a key sent);
   * null otherwise. A handler that creates something names it after `token` so that a re-run
   * (`rerun`) finds what an earlier attempt made (docs/retry-safe-writes.md).
   */
  readonly idempotency: IdempotentAttempt | null;
  readonly logger: typeof logger;
}

export interface Output {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** The tenant this request acted on, for a route whose path names none (see RequestState). */
  readonly recordTenantId?: string;
}

export interface HttpHandlerOptions {
  /** Where tenant routes get their access policy; defaults to the services' `tenantAccess`. */
  readonly tenantAccess?: () => TenantAccessPolicy | undefined;
  /** Where the request's audit, usage and metric records go; defaults to the services' `telemetry`. */
  readonly telemetry?: () => TelemetrySink | null;
}

export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResponse>;

/**
 * Builds the Lambda handler of one route: the same middy chain for every route, around a thin
 * use-case call that gets the validated input and the function's services. middy runs `onError`
 * in reverse order: the error mapping runs after every inner middleware, and the request
 * context's access log line runs after it, with the final status. `handler.with(services)` is the
 * same chain on other services (see shared/composition/handler.ts).
 */
export function httpHandler<const R extends RouteSpec>(
  route: R,
  impl: (input: Input<R>, services: Services) => Promise<Output>,
  options: HttpHandlerOptions = {},
): Composed<HttpHandler> {
  return composed((services) => chainOf(route, impl, services, options));
}

function chainOf<const R extends RouteSpec>(
  route: R,
  impl: (input: Input<R>, services: Services) => Promise<Output>,
  services: Services,
  options: HttpHandlerOptions,
): HttpHandler {
  const tenantAccess = options.tenantAccess ?? (() => services.tenantAccess);
  const telemetrySink = options.telemetry ?? (() => services.telemetry);
  const core = async (event: HttpEvent): Promise<HttpResponse> => {
    const state = stateOf(event);
    const replay = replayOf(event, state.requestId);
    if (replay) return replay;
    const output = await impl(
      {
        params: state.params,
        query: state.query,
        body: state.body,
        caller: state.caller,
        grant: state.grant,
        requestId: state.requestId,
        headers: Object.fromEntries(
          Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
        ),
        idempotency: idempotentAttemptOf(event),
        logger,
      } as Input<R>,
      services,
    );
    state.recordTenantId = output.recordTenantId ?? null;
    return jsonResponse(output.status, output.body, state.requestId, output.headers);
  };
  // An idempotent route claims its key once the caller and the input are known, and keeps the
  // answer once the error mapping has made it (shared/http/idempotency.ts).
  const keys = route.idempotent ? idempotency(route, () => services.idempotency) : null;
  const wrapped = middy<HttpEvent, HttpResponse>({ timeoutEarlyInMillis: 0 })
    .use(requestContext(route))
    .use(telemetry(route, { sink: telemetrySink }))
    .use(keys ? [keys.record] : [])
    .use(errorMapping())
    .use(authorization(route, tenantAccess))
    .use(
      route.access.kind === 'tenant'
        ? [rateLimiting(route, { limiter: () => services.limiter, events: () => eventsOf(services) })]
        : [],
    )
    .use(
      route.growsStorage
        ? [
            storageQuota(route, {
              usage: () => services.records.usage,
              cacheMs: () => services.settings.accessCacheMs,
            }),
          ]
        : [],
    )
    .use(validation(route))
    .use(keys ? [keys.claim] : [])
    .handler(core);
  return wrapped as unknown as HttpHandler;
}

/** The function's event publisher, or null in a composition without one (a test's). */
function eventsOf(services: Services) {
  try {
    return services.events;
  } catch {
    return null;
  }
}
