import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { recordsHandler } from '#shared/composition/record-consumers';
import { MetricSample, UsageRecorded } from '#shared/events/events';
import { parseCsv } from '#shared/exports/csv';
import { currentMonth } from '#shared/exports/months';
import type { AnalyticsMonth, AnalyticsReport } from '#shared/exports/platform-analytics';
import { AnalyticsStore } from '#shared/records/analytics-store';
import { AuditStore } from '#shared/records/audit-store';
import { BUCKET_COUNT, bucketOf, percentile } from '#shared/records/latency-histogram';
import { MetricsStore } from '#shared/records/metrics-store';
import { RecordBatchWriter } from '#shared/records/record-batch';
import { UsageStore } from '#shared/records/usage-store';
import { type Actor, clientFor, eventually, newActor, newTenant } from '../support/actors.ts';
import { type BusEvent, busEvent, deliverUntilDone } from '../support/record-batches.ts';
import { expectStatus } from '../support/tenancy.ts';

/*
 * Platform analytics (issue 19): GET /platform/analytics answers the fleet's months from the
 * monthly rollups. Every figure is checked against the per-tenant rollups it must equal: the
 * UsageStore's daily rollups and the MetricsStore's hours.
 */

const info = inject('platform');
const client = clientFor(info);
const dynamo = new DynamoDBClient({
  region: info.region,
  endpoint: info.endpoints.dynamodb,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const usage = new UsageStore(dynamo, info.tables.usage);
const metrics = new MetricsStore(dynamo, info.tables.usage);
const analytics = new AnalyticsStore(dynamo, info.tables.usage);
const writer = new RecordBatchWriter(dynamo, {
  usageTable: info.tables.usage,
  audit: new AuditStore(dynamo, info.tables.audit, 400),
});
const records = recordsHandler(() => writer);

/** A month no other suite writes records in: its partition holds this file's events only. */
const QUIET_MONTH = '2017-05';

afterAll(() => {
  client.close();
  dynamo.destroy();
});

/** A tenant's month from its own rollups: api_calls and peak storage (UsageStore), requests and 5xx (MetricsStore). */
async function perTenant(tenantId: string, month: string) {
  const totals = await usage.monthTotals(tenantId, month);
  const hours = await metrics.hours(tenantId, `${month}-01T00:00:00.000Z`, `${month}-31T23:59:59.999Z`);
  return {
    tenantId,
    apiCalls: totals.find((total) => total.resourceType === 'api_calls')?.quantity ?? 0,
    storageBytes: totals.find((total) => total.resourceType === 'storage_bytes')?.quantity ?? 0,
    requests: hours.reduce((sum, hour) => sum + hour.requests, 0),
    errors: hours.reduce((sum, hour) => sum + hour.errors, 0),
  };
}

const ranked = (values: { tenantId: string; value: number }[]) =>
  values
    .filter((entry) => entry.value > 0)
    .sort((a, b) => b.value - a.value || a.tenantId.localeCompare(b.tenantId))
    .slice(0, 10);

describe('platform analytics', () => {
  let finance: Actor;
  let admin: Actor;
  let owners: Actor[];
  let tenantIds: string[];

  const analyticsOf = async (actor: Actor, from: string, to = from) => {
    const response = expectStatus(await actor.call('GET', `/platform/analytics?from=${from}&to=${to}`), 200);
    return response.body as AnalyticsReport;
  };
  const monthOf = async (month: string) => (await analyticsOf(finance, month)).months[0] as AnalyticsMonth;

  beforeAll(async () => {
    [finance, admin, ...owners] = await Promise.all([
      newActor(client, 'analytics-finance', { groups: ['finance'] }),
      newActor(client, 'analytics-admin', { groups: ['platform-admin'] }),
      newActor(client, 'analytics-a'),
      newActor(client, 'analytics-b'),
      newActor(client, 'analytics-c'),
    ]);
    tenantIds = (await Promise.all(owners.map((owner) => newTenant(owner)))).map((made) => made.tenantId);
  });

  it('finance and platform admins are answered; a tenant owner is refused with a 403, an anonymous caller with a 401', async () => {
    const month = currentMonth();
    expect((await analyticsOf(finance, month)).months.map((m) => m.month)).toEqual([month]);
    expect((await analyticsOf(admin, month)).months.map((m) => m.month)).toEqual([month]);
    const owner = owners[0] as Actor;
    const refused = await owner.call('GET', `/platform/analytics?from=${month}&to=${month}`);
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).not.toContain(tenantIds[1]);
    const anonymous = await client.call('GET', `/platform/analytics?from=${month}&to=${month}`);
    expect(anonymous.status).toBe(401);
  });

  it("the open month, after real requests: each tenant's month equals the sum of its rollups, and the answer is made of those months", async () => {
    // Act: real requests of three tenants through the local gateway, some of them refusals (4xx).
    const month = currentMonth();
    const calls = [5, 3, 1];
    await Promise.all(
      owners.map(async (owner, index) => {
        const tenantId = tenantIds[index] as string;
        for (let call = 0; call < (calls[index] as number); call++)
          expectStatus(await owner.call('GET', `/tenants/${tenantId}/databases`), 200);
        expect(
          (await owner.call('GET', `/tenants/${tenantId}/databases/d_aaaaaaaaaaaaaaaa/tables`)).status,
        ).toBe(404);
      }),
    );
    // Assert: once the records have landed, each tenant's analytics item is its rollups' sum.
    for (const [index, tenantId] of tenantIds.entries()) {
      const expected = await eventually(
        async () => {
          const [own, item] = await Promise.all([
            perTenant(tenantId, month),
            analytics.month(month).then((p) => p.tenants.find((t) => t.tenantId === tenantId)),
          ]);
          return { own, item };
        },
        ({ own, item }) =>
          own.apiCalls >= (calls[index] as number) + 1 &&
          item?.apiCalls === own.apiCalls &&
          item.requests === own.requests &&
          item.errors === own.errors,
      );
      expect(expected.item).toEqual({ ...expected.own, storageBytes: expected.item?.storageBytes ?? 0 });
      expect(expected.own.requests).toBeGreaterThanOrEqual((calls[index] as number) + 1);
    }
    const answered = await monthOf(month);
    const ours = await Promise.all(tenantIds.map((tenantId) => perTenant(tenantId, month)));
    expect(answered.apiCalls).toBeGreaterThanOrEqual(ours.reduce((sum, own) => sum + own.apiCalls, 0));
    expect(answered.requests).toBeGreaterThanOrEqual(ours.reduce((sum, own) => sum + own.requests, 0));
    for (const entry of answered.top.apiCalls) {
      const own = ours.find((o) => o.tenantId === entry.tenantId);
      if (own) expect(entry.value).toBe(own.apiCalls);
    }
    const values = answered.top.apiCalls.map((entry) => entry.value);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    // Every owner made signed-in requests this month: each is an active user, counted once.
    expect(answered.activeUsers).toBeGreaterThanOrEqual(owners.length);
    expect(answered.latencyP95Ms ?? 0).toBeGreaterThanOrEqual(answered.latencyP50Ms ?? 0);
    // The tenants of the control database, live for the open month, the same count three ways.
    expect(answered.tenantsSource).toBe('live');
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    expect(answered.tenants.byStatus.active ?? 0).toBeGreaterThanOrEqual(3);
    expect(sum(answered.tenants.byPlan)).toBe(sum(answered.tenants.byStatus));
    expect(sum(answered.tenants.byIsolation)).toBe(sum(answered.tenants.byStatus));
    expect(answered.created).toBeGreaterThanOrEqual(3);
  });

  describe(`a quiet month (${QUIET_MONTH}), its records delivered by the records consumer`, () => {
    let events: BusEvent[];
    let first: AnalyticsMonth;

    beforeAll(async () => {
      const [x, y, z] = tenantIds as [string, string, string];
      const at = (day: number, hour = 10) =>
        `${QUIET_MONTH}-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`;
      const used = (tenantId: string, resourceType: string, quantity: number, day: number) =>
        busEvent(UsageRecorded, {
          tenantId,
          resourceType,
          quantity,
          unit: resourceType === 'storage_bytes' ? 'bytes' : 'calls',
          at: at(day),
        });
      const sample = (
        tenantId: string | null,
        statusCode: number,
        latencyMs: number,
        day: number,
        userId?: string,
      ) =>
        busEvent(MetricSample, {
          tenantId,
          operationId: 'listDatabases',
          statusCode,
          latencyMs,
          at: at(day, 8 + (latencyMs % 10)),
          ...(userId ? { userId } : {}),
        });
      const users = [randomUUID(), randomUUID()];
      events = [
        used(x, 'api_calls', 40, 1),
        used(x, 'api_calls', 2, 20),
        used(y, 'api_calls', 17, 3),
        used(z, 'api_calls', 5, 31),
        used(x, 'storage_bytes', 900, 2),
        used(x, 'storage_bytes', 700, 9),
        used(y, 'storage_bytes', 5000, 4),
        sample(x, 200, 12, 1, users[0]),
        sample(x, 200, 48, 2, users[0]),
        sample(x, 500, 250, 3, users[0]),
        sample(y, 200, 5, 4, users[1]),
        sample(y, 503, 3000, 5, users[1]),
        sample(y, 404, 9, 6),
        sample(z, 200, 30, 7),
        sample(z, 200, 31, 8),
        sample(z, 200, 33, 9),
        sample(z, 500, 70, 10),
        // A platform route (no tenant): not the fleet's request, but its user was active.
        sample(null, 200, 2, 11, randomUUID()),
      ];
      expect(await deliverUntilDone(records, events)).toEqual([]);
      first = await monthOf(QUIET_MONTH);
    });

    it("its totals equal the sums of the tenants' rollups, and its top lists their values", async () => {
      const own = await Promise.all(tenantIds.map((tenantId) => perTenant(tenantId, QUIET_MONTH)));
      const sum = (pick: (o: (typeof own)[number]) => number) => own.reduce((total, o) => total + pick(o), 0);
      expect(first.apiCalls).toBe(sum((o) => o.apiCalls));
      expect(first.apiCalls).toBe(64);
      expect(first.requests).toBe(sum((o) => o.requests));
      expect(first.requests).toBe(10);
      expect(first.errors).toBe(sum((o) => o.errors));
      expect(first.errors).toBe(3);
      expect(first.top.apiCalls).toEqual(
        ranked(own.map((o) => ({ tenantId: o.tenantId, value: o.apiCalls }))),
      );
      expect(first.top.storageBytes).toEqual(
        ranked(own.map((o) => ({ tenantId: o.tenantId, value: o.storageBytes }))),
      );
      expect(first.top.storageBytes.map((entry) => entry.value)).toEqual([5000, 900]);
      expect(first.top.errorRate).toEqual(
        ranked(
          own.map((o) => ({
            tenantId: o.tenantId,
            value: Math.round((o.errors / o.requests) * 10_000) / 10_000,
          })),
        ),
      );
      // The fleet's percentiles: the histogram of the tenants' samples.
      const counts = Array.from({ length: BUCKET_COUNT }, () => 0);
      for (const latency of [12, 48, 250, 5, 3000, 9, 30, 31, 33, 70]) {
        const bucket = bucketOf(latency);
        counts[bucket] = (counts[bucket] ?? 0) + 1;
      }
      expect(first.latencyP50Ms).toBe(percentile(counts, 50));
      expect(first.latencyP95Ms).toBe(percentile(counts, 95));
      expect(first.activeUsers).toBe(3);
      // No tenant existed then: the live census counts none, and none was created or offboarded.
      expect(first).toMatchObject({
        tenantsSource: 'live',
        tenants: { byStatus: {}, byPlan: {}, byIsolation: {} },
        created: 0,
        offboarded: 0,
      });
    });

    it('replaying the delivered batch, whole or in parts, leaves every figure unchanged', async () => {
      expect(await deliverUntilDone(records, events)).toEqual([]);
      expect(await deliverUntilDone(records, events.slice(0, 7))).toEqual([]);
      expect(await deliverUntilDone(records, [...events.slice(7), ...events.slice(7)])).toEqual([]);
      expect(await monthOf(QUIET_MONTH)).toEqual(first);
    });

    it('CSV: one line per month and measure, with the JSON figures', async () => {
      const response = await finance.call(
        'GET',
        `/platform/analytics?from=2017-04&to=${QUIET_MONTH}&format=csv`,
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
      const [header, ...rows] = parseCsv(String(response.body));
      expect(header).toEqual(['month', 'measure', 'tenant_id', 'value']);
      const keys = rows.map((row) => `${row[0]} ${row[1]}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(new Set(rows.map((row) => row[0]))).toEqual(new Set(['2017-04', QUIET_MONTH]));
      const value = (measure: string) => rows.find((row) => row[0] === QUIET_MONTH && row[1] === measure);
      expect(value('api_calls')?.[3]).toBe(String(first.apiCalls));
      expect(value('errors')?.[3]).toBe(String(first.errors));
      expect(value('active_users')?.[3]).toBe('3');
      expect(value('top.storage_bytes.1')?.slice(2)).toEqual([
        first.top.storageBytes[0]?.tenantId,
        String(first.top.storageBytes[0]?.value),
      ]);
      // April had nothing: its calls are 0 and its percentiles empty.
      expect(rows.find((row) => row[0] === '2017-04' && row[1] === 'api_calls')?.[3]).toBe('0');
      expect(rows.find((row) => row[0] === '2017-04' && row[1] === 'latency_p50_ms')?.[3]).toBe('');
    });

    it("the month's close snapshots the tenants and resets each tenant's usage from its reconciled rollups", async () => {
      // Arrange: a tenant's month item off from its rollups (the window the writer's claims leave).
      const [x] = tenantIds as [string];
      await analytics.setTenantUsage(QUIET_MONTH, x, { apiCalls: 999, storageBytes: 1 });
      expect((await monthOf(QUIET_MONTH)).apiCalls).not.toBe(first.apiCalls);
      // Act
      expectStatus(await finance.call('POST', `/usage/exports/${QUIET_MONTH}/close`), 200);
      // Assert
      const closed = await monthOf(QUIET_MONTH);
      expect(closed).toEqual({ ...first, tenantsSource: 'snapshot' });
    });
  });
});
