import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { DynamoTenantLimiter, nextMonthStart } from '#shared/records/tenant-limits';
import { UsageStore } from '#shared/records/usage-store';
import { type Actor, newActor, newTenant } from '../support/actors.ts';
import { expectStatus } from '../support/tenancy.ts';
import { sendText, tenantWithDatabase } from '../support/tenant-data.ts';

/**
 * Per-tenant rate and monthly limits (issue 15, part R): the limiter's arithmetic on the local
 * DynamoDB API with a clock of the test's own, then the API's answers — 429 `rate_limited` with
 * `Retry-After` and the RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-10,
 * https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/10/), other tenants
 * unaffected, refused calls not billed, and 429 `quota_exceeded` past the month's calls except on
 * the reads that show an admin why.
 */

const info = inject('platform');
const client = new LocalClient(info);
const dynamo = new DynamoDBClient({
  region: info.region,
  endpoint: info.endpoints.dynamodb,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
afterAll(() => {
  client.close();
  dynamo.destroy();
});

describe('the tenant limiter (GCRA and the month, one conditional update a request)', () => {
  const limiter = new DynamoTenantLimiter(dynamo, info.tables.limits);
  const limits = { requestsPerSecond: 2, burst: 3, apiCallsPerMonth: 6 };
  const t0 = Date.UTC(2031, 4, 10, 12, 0, 0);

  it('admits a burst at once, then one request per interval; says how long to wait', async () => {
    const tenantId = `t-limiter-${Date.now()}`;
    const admit = (now: number, checkMonth = true) => limiter.admit({ tenantId, limits, checkMonth, now });

    const burst = [await admit(t0), await admit(t0), await admit(t0)];
    expect(burst.map((a) => a.admitted)).toEqual([true, true, true]);
    expect(burst.map((a) => (a.admitted ? a.remaining : -1))).toEqual([2, 1, 0]);
    // The 4th at the same instant: over the rate; the next slot is 500 ms away, so 1 s (rounded up).
    expect(await admit(t0)).toEqual({ admitted: false, reason: 'rate', retryAfterSeconds: 1 });
    // 500 ms later one interval has passed: one more request, and no more.
    expect((await admit(t0 + 500)).admitted).toBe(true);
    expect((await admit(t0 + 500)).admitted).toBe(false);
    // Idle for long: the full burst again, never more (the bucket does not grow past it).
    const later = [await admit(t0 + 60_000), await admit(t0 + 60_000), await admit(t0 + 60_000)];
    expect(later.map((a) => a.admitted)).toEqual([true, true, false]);
    // 6 admitted so far: the month is used up; Retry-After runs to the first instant of June (UTC).
    const month = await admit(t0 + 120_000);
    expect(month).toEqual({
      admitted: false,
      reason: 'month',
      retryAfterSeconds: Math.ceil((nextMonthStart(t0) - (t0 + 120_000)) / 1000),
      monthUsed: 6,
      month: '2031-05',
    });
    // A read exempt from the month is still served, and counted.
    const exempt = await admit(t0 + 120_000, false);
    expect(exempt).toMatchObject({ admitted: true, monthUsed: 7 });
    // A new month starts from zero.
    expect(await admit(nextMonthStart(t0) + 1)).toMatchObject({
      admitted: true,
      monthUsed: 1,
      month: '2031-06',
    });
  });

  it('never admits more than the burst when many requests race for one tenant', async () => {
    const tenantId = `t-limiter-race-${Date.now()}`;
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        limiter.admit({
          tenantId,
          limits: { ...limits, burst: 5, apiCallsPerMonth: 1000 },
          checkMonth: true,
          now: t0,
        }),
      ),
    );
    expect(answers.filter((a) => a.admitted)).toHaveLength(5);
  });

  it('starts the bucket again under a new rate (a plan change takes effect at once)', async () => {
    const tenantId = `t-limiter-change-${Date.now()}`;
    const slow = { requestsPerSecond: 1, burst: 2, apiCallsPerMonth: 1000 };
    const fast = { requestsPerSecond: 1000, burst: 1000, apiCallsPerMonth: 1000 };
    for (let i = 0; i < 2; i++) await limiter.admit({ tenantId, limits: slow, checkMonth: true, now: t0 });
    expect((await limiter.admit({ tenantId, limits: slow, checkMonth: true, now: t0 })).admitted).toBe(false);
    // Under the old rate the next slot is a second away; under the new one it is now.
    expect((await limiter.admit({ tenantId, limits: fast, checkMonth: true, now: t0 })).admitted).toBe(true);
  });

  it('refuses everything for a zero rate or a zero month', async () => {
    const tenantId = `t-limiter-zero-${Date.now()}`;
    expect(
      await limiter.admit({
        tenantId,
        limits: { ...limits, requestsPerSecond: 0 },
        checkMonth: true,
        now: t0,
      }),
    ).toMatchObject({ admitted: false, reason: 'rate' });
    expect(
      await limiter.admit({
        tenantId,
        limits: { ...limits, apiCallsPerMonth: 0 },
        checkMonth: true,
        now: t0,
      }),
    ).toMatchObject({ admitted: false, reason: 'month' });
  });
});

describe('rate and monthly limits on the API', () => {
  let admin: Actor;
  let owner: Actor;
  let limited: string;
  let other: string;

  const setLimits = async (tenantId: string, overrides: Record<string, number | null>) =>
    expectStatus(await admin.call('PUT', `/tenants/${tenantId}/plan`, { plan: 'generous', overrides }), 200);
  const usage = new UsageStore(dynamo, info.tables.usage);
  /** The tenant's billed API calls of today, read from the raw usage records (not an API call). */
  const apiCalls = async (tenantId: string) =>
    (await usage.rawRecords(tenantId, new Date().toISOString().slice(0, 10))).filter(
      (record) => record.resourceType === 'api_calls',
    ).length;
  /** The count once the consumer has caught up: unchanged for a second. */
  const settledApiCalls = async (tenantId: string) => {
    let last = -1;
    for (;;) {
      const now = await apiCalls(tenantId);
      if (now === last) return now;
      last = now;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  };

  beforeAll(async () => {
    [admin, owner] = await Promise.all([
      newActor(client, 'rate-admin', { groups: ['platform-admin'] }),
      newActor(client, 'rate-owner'),
    ]);
    [{ tenantId: limited }, { tenantId: other }] = await Promise.all([
      newTenant(owner, 'Rate limited'),
      newTenant(owner, 'Rate neighbour'),
    ]);
  });

  it("answers a tenant's requests past its burst with 429 rate_limited, Retry-After and RateLimit headers; other tenants are not affected; refused calls are not billed", async () => {
    await setLimits(limited, { requestsPerSecond: 1, burst: 3 });
    const before = await settledApiCalls(limited);
    await new Promise((resolve) => setTimeout(resolve, 3_100)); // the bucket full again

    const [mine, theirs] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => owner.call('GET', `/tenants/${limited}/databases`))),
      Promise.all(Array.from({ length: 8 }, () => owner.call('GET', `/tenants/${other}/databases`))),
    ]);

    const served = mine.filter((r) => r.status === 200);
    const refused = mine.filter((r) => r.status === 429);
    expect(served.length).toBeLessThanOrEqual(3);
    expect(served.length + refused.length).toBe(8);
    expect(theirs.map((r) => r.status)).toEqual(Array(8).fill(200));
    const first = refused[0] as (typeof refused)[number];
    expect(first.body).toEqual({ error: expect.objectContaining({ code: 'rate_limited' }) });
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(first.headers.get('ratelimit-policy')).toMatch(/^"burst";q=3;w=3, "month";q=\d+;w=\d+$/);
    expect(first.headers.get('ratelimit')).toMatch(/^"burst";r=0;t=\d+$/);
    expect(served[0]?.headers.get('ratelimit')).toMatch(/^"burst";r=\d;t=\d+$/);
    // Only the served calls are billed: exactly that many new raw api_calls records.
    expect(await settledApiCalls(limited)).toBe(before + served.length);

    // After Retry-After the tenant is served again.
    await new Promise((resolve) =>
      setTimeout(resolve, Number(first.headers.get('retry-after')) * 1000 + 100),
    );
    expectStatus(await owner.call('GET', `/tenants/${limited}/databases`), 200);
  });

  it('answers 429 quota_exceeded past the month’s API calls, until the month turns, except the reads that show why', async () => {
    await setLimits(limited, { requestsPerSecond: null, burst: null, apiCallsPerMonth: 1 });
    const refused = await owner.call('GET', `/tenants/${limited}/databases`);

    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      error: expect.objectContaining({
        code: 'quota_exceeded',
        quota: 'apiCallsPerMonth',
        limit: 1,
        used: expect.any(Number),
      }),
    });
    const wait = Number(refused.headers.get('retry-after'));
    const untilMonthEnd = (nextMonthStart(Date.now()) - Date.now()) / 1000;
    expect(wait).toBeGreaterThan(untilMonthEnd - 60);
    expect(wait).toBeLessThanOrEqual(Math.ceil(untilMonthEnd) + 1);
    // Writes are refused as well, and nothing is written.
    const write = await owner.call('POST', `/tenants/${limited}/roles`, {
      name: 'blocked',
      permissions: { members: ['read'] },
    });
    expect(write.status).toBe(429);
    // The tenant, its quotas and its usage stay readable, so an admin can see why.
    for (const path of ['', '/quotas', '/usage']) {
      expectStatus(await owner.call('GET', `/tenants/${limited}${path}`), 200);
    }
    const roles = expectStatus(await owner.call('GET', `/tenants/${limited}/roles`), 429);
    expect(roles.status).toBe(429);
    // Raising the limit serves the tenant again at once.
    await setLimits(limited, { apiCallsPerMonth: null });
    expectStatus(await owner.call('GET', `/tenants/${limited}/roles`), 200);
  });
});

describe('the storage limit on writes that grow data', () => {
  let admin: Actor;
  let owner: Actor;

  beforeAll(async () => {
    [admin, owner] = await Promise.all([
      newActor(client, 'storage-admin', { groups: ['platform-admin'] }),
      newActor(client, 'storage-owner'),
    ]);
  });

  it('refuses row inserts, batches, imports and new tables with 403 quota_exceeded once the snapshot reached storageBytes; reads, updates and deletes go on', async () => {
    const { tenantId, base } = await tenantWithDatabase(owner);
    const tables = `${base}/tables`;
    expectStatus(
      await owner.call('POST', tables, { name: 'notes', columns: [{ name: 'v', type: 'text' }] }),
      201,
    );
    const row = expectStatus(await owner.call('POST', `${tables}/notes/rows`, { v: 'kept' }), 201).body as {
      id: string;
    };
    // The latest snapshot measured 5 000 bytes; the plan allows 4 096.
    const store = new UsageStore(dynamo, info.tables.usage);
    const at = new Date().toISOString();
    await store.seedRawRecords([
      {
        eventId: `snap-${tenantId}`,
        tenantId,
        resourceType: 'storage_bytes',
        quantity: 5_000,
        unit: 'bytes',
        at,
      },
    ]);
    await store.reconcileDay(tenantId, at.slice(0, 10));
    expectStatus(
      await admin.call('PUT', `/tenants/${tenantId}/plan`, {
        plan: 'generous',
        overrides: { storageBytes: 4_096 },
      }),
      200,
    );

    const refused = [
      await owner.call('POST', `${tables}/notes/rows`, { v: 'more' }),
      await owner.call('POST', `${tables}/notes/rows/batch`, { rows: [{ v: 'a' }, { v: 'b' }] }),
      await owner.call('POST', tables, { name: 'more_notes', columns: [{ name: 'v', type: 'text' }] }),
      await sendText(
        info,
        owner,
        'POST',
        `${tables}/notes/rows/import?format=csv`,
        'v\nimported\n',
        'text/csv',
      ),
    ];
    for (const response of refused) {
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        error: expect.objectContaining({
          code: 'quota_exceeded',
          quota: 'storageBytes',
          limit: 4_096,
          used: 5_000,
        }),
      });
    }
    const rows = expectStatus(await owner.call('GET', `${tables}/notes/rows`), 200).body as {
      items: unknown[];
    };
    expect(rows.items).toHaveLength(1);
    expectStatus(await owner.call('PATCH', `${tables}/notes/rows/${row.id}`, { v: 'edited' }), 200);
    expectStatus(await owner.call('DELETE', `${tables}/notes/rows/${row.id}`), 204);
    // A raised limit lets the tenant write again.
    expectStatus(
      await admin.call('PUT', `/tenants/${tenantId}/plan`, {
        plan: 'generous',
        overrides: { storageBytes: null },
      }),
      200,
    );
    expectStatus(await owner.call('POST', `${tables}/notes/rows`, { v: 'again' }), 201);
  });
});
