import type { MiddlewareObj } from '@middy/core';
import { logger } from '#shared/core/logger';
import { MonthlyQuotaExceeded, RateLimited } from '#shared/errors';
import { type HttpEvent, type HttpRequest, type HttpResponse, stateOf } from '#shared/http/middleware';
import type { EventPublisher } from '#shared/ports/event-publisher';
import type { Admission, RateLimits, TenantLimiter } from '#shared/records/tenant-limits';
import { monthOf, secondsInMonth } from '#shared/records/utc-months';
import type { RouteSpec } from '#shared/routes/types';
import {
  type QuotaActor,
  type ThresholdDetail,
  thresholdAnnouncement,
  thresholdsCrossed,
} from '#shared/tenancy/quota-thresholds';

/**
 * Per-tenant limits on every tenant route (issue 15), after the caller's grant is known (it
 * carries the tenant's effective limits) and before the input is read: one conditional
 * UpdateItem per request (shared/records/tenant-limits.ts).
 *
 * - Beyond `requestsPerSecond` (with `burst`): 429 `rate_limited`, `Retry-After` in seconds.
 * - Past `apiCallsPerMonth`: 429 `quota_exceeded` (`quota: "apiCallsPerMonth"`), `Retry-After`
 *   until the UTC month turns; routes marked `exemptFromMonthlyQuota` are still served.
 * - A refused request is not billed as an API call (RequestState.throttled).
 * - Every answer of a limited route carries the RateLimit header fields of
 *   draft-ietf-httpapi-ratelimit-headers-10 (https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/10/):
 *   `RateLimit-Policy: "burst";q=<burst>;w=<seconds to refill it>, "month";q=<apiCallsPerMonth>;w=<seconds in the month>`
 *   and `RateLimit: "burst";r=<requests left at once>;t=<seconds until full>`, as Structured Fields lists.
 * - When the month's calls reach 80 % and 100 % of the limit, one Quota Threshold Reached event
 *   each (the counter is atomic: exactly one request sees each value).
 *
 * The limiter failing (DynamoDB unreachable) lets the request through and logs the error: a
 * tenant is never refused because the platform's own bookkeeping failed.
 */
export interface RateLimitOptions {
  readonly limiter: () => TenantLimiter | null;
  readonly events: () => EventPublisher | null;
}

/** The RateLimit-Policy field of a tenant's limits (Structured Fields list, quoted names). */
export function rateLimitPolicy(limits: RateLimits, month: string): string {
  const refill = limits.requestsPerSecond > 0 ? Math.ceil(limits.burst / limits.requestsPerSecond) : 0;
  return `"burst";q=${limits.burst};w=${refill}, "month";q=${limits.apiCallsPerMonth};w=${secondsInMonth(month)}`;
}

export function rateLimitHeaders(limits: RateLimits, admission: Admission & { admitted: true }) {
  return {
    'ratelimit-policy': rateLimitPolicy(limits, admission.month),
    ratelimit: `"burst";r=${admission.remaining};t=${admission.resetSeconds}`,
  };
}

/** The admission a request waits for; null when there is none to wait for (no limiter, it failed). */
type Pending = Promise<{ readonly admission: Admission; readonly now: number } | null>;

/**
 * A read (GET) is admitted **beside** its work: the admission is asked in `before` and awaited in
 * `after` (or `onError`), so its round trip overlaps the handler's instead of adding to it; a read
 * changes nothing, so a refused one is answered 429 all the same and its result dropped (and not
 * billed). A write waits for its admission before it runs.
 */
export function rateLimiting(
  route: RouteSpec,
  options: RateLimitOptions,
): MiddlewareObj<HttpEvent, HttpResponse> {
  const speculative = route.method === 'GET';
  const pending = new WeakMap<HttpEvent, Pending>();

  const ask = (request: HttpRequest): Pending => {
    const state = stateOf(request.event);
    const grant = route.access.kind === 'tenant' ? state.grant : null;
    const limiter = options.limiter();
    if (!grant || !limiter) return Promise.resolve(null);
    const now = Date.now();
    const question = {
      tenantId: grant.tenantId,
      limits: grant.limits,
      checkMonth: route.exemptFromMonthlyQuota !== true,
      now,
    };
    return Promise.resolve()
      .then(() => limiter.admit(question))
      .then(
        (admission) => ({ admission, now }),
        (error: unknown) => {
          logger.error('rate limiter failed; the request is let through', { error });
          return null;
        },
      );
  };

  /** Throws the refusal of a refused admission; for an admitted one, keeps its headers and announces thresholds. */
  const settle = async (request: HttpRequest, answer: Awaited<Pending>): Promise<void> => {
    const state = stateOf(request.event);
    const grant = state.grant;
    if (!answer || !grant) return;
    const { admission, now } = answer;
    const limits = grant.limits;
    if (!admission.admitted) {
      state.throttled = true;
      throw refusalOf(admission, limits, now);
    }
    state.rateLimitHeaders = rateLimitHeaders(limits, admission);
    for (const threshold of thresholdsCrossed(
      limits.apiCallsPerMonth,
      admission.monthUsed - 1,
      admission.monthUsed,
    )) {
      await announce(
        options.events(),
        {
          tenantId: grant.tenantId,
          plan: grant.plan,
          quota: 'apiCallsPerMonth',
          threshold,
          limit: limits.apiCallsPerMonth,
          used: admission.monthUsed,
          period: admission.month,
          at: new Date(now).toISOString(),
        },
        { userId: state.caller?.userId ?? 'anonymous', requestId: state.requestId },
      );
    }
  };

  const awaitPending = (request: HttpRequest): Pending => {
    const waiting = pending.get(request.event) ?? Promise.resolve(null);
    pending.delete(request.event);
    return waiting;
  };

  return {
    name: 'rate-limit',
    before: async (request: HttpRequest) => {
      const answer = ask(request);
      if (speculative) {
        pending.set(request.event, answer);
        return;
      }
      await settle(request, await answer);
    },
    after: async (request: HttpRequest) => {
      if (speculative) await settle(request, await awaitPending(request));
      const headers = stateOf(request.event).rateLimitHeaders;
      if (headers && request.response) {
        request.response.headers = { ...request.response.headers, ...headers };
      }
    },
    onError: async (request: HttpRequest) => {
      // A read that failed (a 404, say) while over its limit is answered as over its limit.
      if (!speculative || !pending.has(request.event)) return;
      try {
        await settle(request, await awaitPending(request));
      } catch (refusal) {
        request.error = refusal as Error;
      }
    },
  };
}

/** The 429 of a refused admission, with Retry-After and the RateLimit headers. */
function refusalOf(admission: Admission & { admitted: false }, limits: RateLimits, now: number): Error {
  const headers = {
    'retry-after': String(admission.retryAfterSeconds),
    'ratelimit-policy': rateLimitPolicy(limits, monthOf(now)),
    ratelimit: `"burst";r=0;t=${admission.retryAfterSeconds}`,
  };
  if (admission.reason === 'rate') {
    return new RateLimited(
      `Too many requests for this tenant: at most ${limits.requestsPerSecond} a second (burst ${limits.burst}); retry after ${admission.retryAfterSeconds} s`,
      { retryAfterSeconds: admission.retryAfterSeconds },
      headers,
    );
  }
  return new MonthlyQuotaExceeded(
    `This tenant's plan allows ${limits.apiCallsPerMonth} API calls a month, all used in ${admission.month}`,
    {
      quota: 'apiCallsPerMonth',
      limit: limits.apiCallsPerMonth,
      used: admission.monthUsed,
      retryAfterSeconds: admission.retryAfterSeconds,
    },
    headers,
  );
}

/**
 * The event for routing and an audit record for the tenant's log, in one PutEvents call, as the
 * counted quotas announce theirs (shared/tenancy/quota-thresholds.ts). Exactly one request sees
 * each count, so no claim is needed; an announcement the bus refuses is logged, not retried.
 */
async function announce(
  events: EventPublisher | null,
  detail: ThresholdDetail,
  actor: QuotaActor,
): Promise<void> {
  if (!events) return;
  try {
    const { failed } = await events.publish(thresholdAnnouncement(detail, actor));
    if (failed.length > 0) logger.warn('quota threshold announcement not published', { ...detail });
  } catch (error) {
    logger.error('quota threshold event not published', { error });
  }
}
