import { describe, expect, it } from 'vitest';
import { MonthlyQuotaExceeded, RateLimited } from '#shared/errors';
import { type HttpEvent, type HttpRequest, stateOf } from '#shared/http/middleware';
import { rateLimiting, rateLimitPolicy } from '#shared/http/rate-limit';
import { recordsOf } from '#shared/http/request-records';
import type { EventPublisher, OutgoingEvent } from '#shared/ports/event-publisher';
import type { Admission, AdmissionQuestion, TenantLimiter } from '#shared/records/tenant-limits';
import { routes } from '#shared/routes/table';
import { DEFAULT_GRANT_PLAN } from '../support/grants.ts';

/**
 * The rate-limit middleware (issue 15, part R) around a limiter of the test's own: what it asks,
 * the answers it gives for each admission, the thresholds it announces, the headers it adds, and
 * that a refused request is not billed. The limiter itself runs against the local DynamoDB API in
 * test/integration/rate-limits.test.ts.
 */

const limits = { ...DEFAULT_GRANT_PLAN.limits, requestsPerSecond: 10, burst: 20, apiCallsPerMonth: 10 };

function requestFor(): HttpRequest {
  const event = {
    rawPath: '/tenants/t_a/databases',
    pathParameters: { tenantId: 't_a' },
    requestContext: { requestId: `r-${Math.random()}` },
    headers: {},
  } as unknown as HttpEvent;
  stateOf(event).grant = {
    tenantId: 't_a',
    role: 'owner',
    permissions: new Set(),
    suspended: false,
    plan: 'free',
    limits,
  };
  return {
    event,
    context: {},
    response: undefined,
    error: undefined,
    internal: {},
  } as unknown as HttpRequest;
}

function limiterAnswering(admission: Admission | Error) {
  const asked: AdmissionQuestion[] = [];
  const limiter: TenantLimiter = {
    admit: async (question) => {
      asked.push(question);
      if (admission instanceof Error) throw admission;
      return admission;
    },
  };
  return { asked, limiter };
}

function publisher() {
  const published: OutgoingEvent[] = [];
  const events: EventPublisher = {
    publish: async (batch) => {
      published.push(...batch);
      return { failed: [] };
    },
  };
  return { published, events };
}

const admitted = (monthUsed: number): Admission => ({
  admitted: true,
  remaining: 7,
  resetSeconds: 2,
  monthUsed,
  month: '2026-12',
});

describe('the rate-limit middleware', () => {
  it('asks with the grant’s limits, checks the month unless the route is exempt, and adds the RateLimit headers', async () => {
    const { asked, limiter } = limiterAnswering(admitted(3));
    const middleware = rateLimiting(routes.listDatabases, { limiter: () => limiter, events: () => null });
    const request = requestFor();
    await middleware.before?.(request);
    request.response = { statusCode: 200, headers: { 'content-type': 'application/json' } };
    await middleware.after?.(request);

    expect(asked).toEqual([{ tenantId: 't_a', limits, checkMonth: true, now: expect.any(Number) }]);
    expect(request.response.headers).toEqual({
      'content-type': 'application/json',
      'ratelimit-policy': '"burst";q=20;w=2, "month";q=10;w=2678400',
      ratelimit: '"burst";r=7;t=2',
    });
    const exempt = limiterAnswering(admitted(3));
    await rateLimiting(routes.getTenant, { limiter: () => exempt.limiter, events: () => null }).before?.(
      requestFor(),
    );
    expect(exempt.asked[0]?.checkMonth).toBe(false);
  });

  it('refuses over the rate with 429 rate_limited and over the month with 429 quota_exceeded, neither billed', async () => {
    // A write waits for its admission: refused before it runs.
    const rate = rateLimiting(routes.createDatabase, {
      limiter: () => limiterAnswering({ admitted: false, reason: 'rate', retryAfterSeconds: 3 }).limiter,
      events: () => null,
    });
    const request = requestFor();
    const refusal = await rate.before?.(request).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(RateLimited);
    expect((refusal as RateLimited).statusCode).toBe(429);
    expect((refusal as RateLimited).headers).toMatchObject({ 'retry-after': '3' });
    const records = recordsOf(routes.createDatabase, request.event, 429);
    const detail = records[0]?.detail as { usage?: unknown; metric?: unknown };
    expect(detail.usage).toBeUndefined();
    expect(detail.metric).toBeDefined();

    const month = rateLimiting(routes.createDatabase, {
      limiter: () =>
        limiterAnswering({
          admitted: false,
          reason: 'month',
          retryAfterSeconds: 99,
          monthUsed: 10,
          month: '2026-12',
        }).limiter,
      events: () => null,
    });
    const quota = await month.before?.(requestFor()).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(quota).toBeInstanceOf(MonthlyQuotaExceeded);
    expect((quota as MonthlyQuotaExceeded).code).toBe('quota_exceeded');
    expect((quota as MonthlyQuotaExceeded).details).toEqual({
      quota: 'apiCallsPerMonth',
      limit: 10,
      used: 10,
      retryAfterSeconds: 99,
    });
  });

  it('admits a read beside its work: asked before, refused after (its result dropped) or on its error', async () => {
    const refused = { admitted: false, reason: 'rate', retryAfterSeconds: 2 } as const;
    let answer!: (admission: Admission) => void;
    const slow: TenantLimiter = { admit: () => new Promise((resolve) => (answer = resolve)) };
    const read = rateLimiting(routes.listDatabases, { limiter: () => slow, events: () => null });
    const request = requestFor();
    // `before` does not wait for the admission: the handler runs meanwhile.
    await read.before?.(request);
    request.response = { statusCode: 200, body: '{"items":[]}' };
    answer(refused);
    const refusal = await read.after?.(request).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(RateLimited);
    expect(stateOf(request.event).throttled).toBe(true);

    // The read failed (a 404) while over its limit: answered as over its limit.
    const failed = requestFor();
    const again = rateLimiting(routes.listDatabases, {
      limiter: () => limiterAnswering(refused).limiter,
      events: () => null,
    });
    await again.before?.(failed);
    failed.error = new Error('not found');
    await again.onError?.(failed);
    expect(failed.error).toBeInstanceOf(RateLimited);
    // Admitted: the read's own error stands.
    const ok = requestFor();
    const admittedRead = rateLimiting(routes.listDatabases, {
      limiter: () => limiterAnswering(admitted(1)).limiter,
      events: () => null,
    });
    await admittedRead.before?.(ok);
    const own = new Error('not found');
    ok.error = own;
    await admittedRead.onError?.(ok);
    expect(ok.error).toBe(own);
  });

  it('announces the month’s 80 % and 100 % once each, at the request that reaches them', async () => {
    const { published, events } = publisher();
    for (const used of [7, 8, 9, 10]) {
      await rateLimiting(routes.createDatabase, {
        limiter: () => limiterAnswering(admitted(used)).limiter,
        events: () => events,
      }).before?.(requestFor());
    }
    expect(published.map((event) => [event.detailType, event.detail])).toEqual([
      [
        'Quota Threshold Reached',
        expect.objectContaining({
          quota: 'apiCallsPerMonth',
          threshold: 80,
          used: 8,
          limit: 10,
          period: '2026-12',
        }),
      ],
      [
        'Audit Record',
        expect.objectContaining({
          tenantId: 't_a',
          action: 'quotas.thresholdReached',
          details: { quota: 'apiCallsPerMonth', threshold: 80, limit: 10, used: 8, period: '2026-12' },
        }),
      ],
      ['Quota Threshold Reached', expect.objectContaining({ threshold: 100, used: 10 })],
      ['Audit Record', expect.objectContaining({ details: expect.objectContaining({ threshold: 100 }) })],
    ]);
  });

  it('lets the request through when the limiter fails, and when there is none', async () => {
    const failing = rateLimiting(routes.listDatabases, {
      limiter: () => limiterAnswering(new Error('DynamoDB unreachable')).limiter,
      events: () => null,
    });
    const request = requestFor();
    await expect(failing.before?.(request)).resolves.toBeUndefined();
    request.response = { statusCode: 200 };
    await expect(failing.after?.(request)).resolves.toBeUndefined();
    expect(stateOf(request.event).throttled).toBe(false);
    await expect(
      rateLimiting(routes.listDatabases, { limiter: () => null, events: () => null }).before?.(requestFor()),
    ).resolves.toBeUndefined();
  });

  it('words the policy of a plan without a rate as a zero window', () => {
    expect(rateLimitPolicy({ requestsPerSecond: 0, burst: 0, apiCallsPerMonth: 5 }, '2026-02')).toBe(
      '"burst";q=0;w=0, "month";q=5;w=2419200',
    );
  });
});
