import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalEventBus, queueSettingsOf } from '#infra/local/event-bus';
import { localFunctionName } from '#infra/local/local-functions';
import { CONTROL_DATABASE } from '#infra/local/platform-info';
import { EventBridgePublisher } from '#shared/adapters/eventbridge-publisher';
import { FileDeadLetterSink } from '#shared/adapters/file-dead-letter';
import { FileExportArchive } from '#shared/adapters/file-export-archive';
import { recordsHandler } from '#shared/composition/record-consumers';
import { TenantRepository } from '#shared/control/tenant-repository';
import { catalog, MetricSample, UsageRecorded } from '#shared/events/events';
import { subscriptions } from '#shared/events/subscriptions';
import { parseCsv } from '#shared/exports/csv';
import { closeMonth, tenantCatalog, timeTenantMonthExport } from '#shared/exports/usage-export';
import { outgoing } from '#shared/ports/event-publisher';
import { AuditStore } from '#shared/records/audit-store';
import { emit } from '#shared/records/emission';
import { MetricsStore } from '#shared/records/metrics-store';
import { RecordBatchWriter } from '#shared/records/record-batch';
import { RECORD_JOB_HANDLERS } from '#shared/records/scheduled-jobs';
import { UsageStore } from '#shared/records/usage-store';
import { type Actor, addMember, clientFor, eventually, newActor, newTenant } from '../support/actors.ts';
import { TEST_PLANS } from '../support/platform-process.ts';
import {
  auditItemsOf,
  type BusEvent,
  busEvent,
  deliverUntilDone,
  fakeTenant,
} from '../support/record-batches.ts';
import { dataApiRunner, expectStatus } from '../support/tenancy.ts';

const info = inject('platform');
const client = clientFor(info);
const aws = { region: info.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const dynamo = new DynamoDBClient({ ...aws, endpoint: info.endpoints.dynamodb });
const audit = new AuditStore(dynamo, info.tables.audit, 400);
const usage = new UsageStore(dynamo, info.tables.usage);
const metrics = new MetricsStore(dynamo, info.tables.usage);
// The control database as the handlers and jobs reach it: the Data API adapter, as the master.
const controlDb = dataApiRunner(info, CONTROL_DATABASE);
const control = controlDb.runner;
const archive = new FileExportArchive(path.join(info.stateDir, 'exports'));
const exportDeps = { usage, tenants: tenantCatalog(new TenantRepository(control)), archive };
const writer = new RecordBatchWriter(dynamo, { usageTable: info.tables.usage, audit });
const records = recordsHandler(() => writer);
/** Delivers each event as its own SQS message until it is done, as the queue would; fails if one never is. */
const deliver = async (...events: BusEvent[]) => {
  expect(await deliverUntilDone(records, events)).toEqual([]);
};
const auditHandler = deliver;
const usageHandler = deliver;
const metricHandler = deliver;

const usageDetail = (tenantId: string, at: string, quantity: number, resourceType = 'api_calls') => ({
  tenantId,
  resourceType,
  quantity,
  unit: resourceType === 'storage_bytes' ? 'bytes' : 'count',
  at,
});

/** Every usage of a tenant's month summed from the raw records (the ground truth). */
async function rawSums(tenantId: string, month: string): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  for (let day = 1; day <= 31; day++) {
    for (const record of await usage.rawRecords(tenantId, `${month}-${String(day).padStart(2, '0')}`)) {
      sums[record.resourceType] = (sums[record.resourceType] ?? 0) + record.quantity;
    }
  }
  return sums;
}

afterAll(async () => {
  client.close();
  dynamo.destroy();
  controlDb.close();
});

describe('consumers replayed (at-least-once delivery)', () => {
  it('keeps exactly one audit record for an event delivered 3 times, one after another and concurrently', async () => {
    // Arrange
    const tenantId = fakeTenant();
    const detail = {
      tenantId,
      userId: 'u1',
      action: 'rows.insert',
      resource: `/tenants/${tenantId}/x`,
      outcome: 'success',
      statusCode: 201,
      requestId: 'r1',
      at: new Date().toISOString(),
      details: {},
    };
    const sequential = busEvent({ source: 'tenantry.api', detailType: 'Audit Record' }, detail);
    const concurrent = busEvent(
      { source: 'tenantry.api', detailType: 'Audit Record' },
      { ...detail, requestId: 'r2' },
    );
    // Act
    for (let i = 0; i < 3; i++) await auditHandler(sequential);
    await Promise.all([auditHandler(concurrent), auditHandler(concurrent), auditHandler(concurrent)]);
    // Assert
    const items = await auditItemsOf(dynamo, info.tables.audit, tenantId);
    expect(items.map((item) => item.eventId?.S).sort()).toEqual([sequential.id, concurrent.id].sort());
  });

  it('counts usage once per event under replays, and loses no increment under concurrency', async () => {
    // Arrange: 20 distinct events on one day, each delivered 3 times, all at once; one more 3 times in a row.
    const tenantId = fakeTenant();
    const at = '2021-06-15T10:00:00.000Z';
    const events = Array.from({ length: 20 }, (_, i) =>
      busEvent(UsageRecorded, usageDetail(tenantId, at, i + 1)),
    );
    const sequential = busEvent(UsageRecorded, usageDetail(tenantId, at, 100));
    // Act
    await Promise.all(
      events.flatMap((event) => [usageHandler(event), usageHandler(event), usageHandler(event)]),
    );
    for (let i = 0; i < 3; i++) await usageHandler(sequential);
    // Assert: 1+…+20 = 210, plus 100; the rollup agrees with the raw records.
    const raw = await usage.rawRecords(tenantId, '2021-06-15');
    expect(raw).toHaveLength(21);
    const [rollup] = await usage.dailyRollups(tenantId, '2021-06-15', '2021-06-15');
    expect(rollup).toMatchObject({ resourceType: 'api_calls', quantity: 310 });
    expect(await usage.reconcileDay(tenantId, '2021-06-15')).toEqual([]);
  });

  it('keeps the peak of a gauge, whatever the order and replays', async () => {
    const tenantId = fakeTenant();
    const at = (h: number) => `2021-06-16T${String(h).padStart(2, '0')}:00:00.000Z`;
    const snapshots = [500, 900, 700].map((bytes, i) =>
      busEvent(UsageRecorded, usageDetail(tenantId, at(i + 1), bytes, 'storage_bytes')),
    );
    await Promise.all([...snapshots, ...snapshots].map((event) => usageHandler(event)));
    const [rollup] = await usage.dailyRollups(tenantId, '2021-06-16', '2021-06-16');
    expect(rollup).toMatchObject({ resourceType: 'storage_bytes', quantity: 900, kind: 'gauge' });
  });

  it('counts a metric sample once per event and keeps its latency histogram', async () => {
    const tenantId = fakeTenant();
    const at = '2021-06-15T10:20:00.000Z';
    const samples = [10, 20, 30, 40, 2000].map((latencyMs, i) =>
      busEvent(MetricSample, {
        tenantId,
        operationId: 'getTenant',
        statusCode: i === 4 ? 500 : 200,
        latencyMs,
        at,
      }),
    );
    await Promise.all(
      samples.flatMap((event) => [metricHandler(event), metricHandler(event), metricHandler(event)]),
    );
    const [hour] = await metrics.hours(tenantId, at, at);
    expect(hour).toMatchObject({ hour: '2021-06-15T10:00:00Z', requests: 5, errors: 1, errorRate: 0.2 });
    expect(hour?.p50).toBeGreaterThan(20);
    expect(hour?.p50).toBeLessThan(40);
    expect(hour?.p99).toBeGreaterThan(1500);
  });
});

describe('failure paths: nothing is lost', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("moves a usage event its consumer keeps failing on to the queue's dead-letter queue, and a redrive records it once", async () => {
    // Arrange: a bus whose records consumer writes to a table that does not exist.
    const dir = await mkdtemp(path.join(tmpdir(), 'tenantry-dlq-'));
    dirs.push(dir);
    const deadLetterFile = path.join(dir, 'dead.jsonl');
    const failedMessagesDir = path.join(dir, 'failed-messages');
    const broken = recordsHandler(
      () => new RecordBatchWriter(dynamo, { usageTable: 'no-such-table', audit }),
    );
    const [subscription] = subscriptions;
    if (!subscription) throw new Error('no subscription');
    const bus = new LocalEventBus({
      busName: 'b',
      catalog,
      subscriptions: [subscription],
      deadLetterFile,
      failedInvocationsDir: path.join(dir, 'failed-invocations'),
      failedMessagesDir,
      timeScale: 0.0001,
      deliver: async (_subscription, event) => broken(event),
    });
    const tenantId = fakeTenant();
    // Act
    bus.putEvents([
      {
        Source: 'tenantry.usage',
        DetailType: 'Usage Recorded',
        Detail: JSON.stringify(usageDetail(tenantId, '2021-07-01T00:00:00.000Z', 7)),
      },
    ]);
    await bus.drain();
    const { queueName } = queueSettingsOf(subscription);
    const failed = (await readFile(path.join(failedMessagesDir, `${queueName}.jsonl`), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // Assert: received maxReceiveCount times, then moved with the whole event; the rule's delivery
    // to the queue itself succeeded, so the rule's dead-letter file has nothing.
    expect(failed).toHaveLength(1);
    expect(failed[0].Attributes.ApproximateReceiveCount).toBe(String(subscription.delivery.maxReceiveCount));
    expect(JSON.parse(failed[0].Body)).toMatchObject({ detail: { tenantId, quantity: 7 } });
    await expect(readFile(deadLetterFile)).rejects.toThrow();
    // Redrive the message twice to the working consumer (docs/operations.md): counted once.
    for (let i = 0; i < 2; i++) await usageHandler(JSON.parse(failed[0].Body));
    const [rollup] = await usage.dailyRollups(tenantId, '2021-07-01', '2021-07-01');
    expect(rollup?.quantity).toBe(7);
  });

  it('dead-letters telemetry the bus does not take, and the records can be published from there', async () => {
    // Arrange: a publisher pointed at a port nobody listens on.
    const dir = await mkdtemp(path.join(tmpdir(), 'tenantry-telemetry-dlq-'));
    dirs.push(dir);
    const file = path.join(dir, 'telemetry-dead-letter.jsonl');
    const unreachable = new EventBridgeClient({ ...aws, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const tenantId = fakeTenant();
    const records = [
      outgoing(UsageRecorded, usageDetail(tenantId, '2021-07-02T00:00:00.000Z', 3)),
      outgoing(MetricSample, {
        tenantId,
        operationId: 'x',
        statusCode: 200,
        latencyMs: 5,
        at: '2021-07-02T00:00:00.000Z',
      }),
    ];
    // Act
    await emit(
      {
        publisher: new EventBridgePublisher({
          client: unreachable,
          eventBusName: info.eventBusName,
          retryDelayMs: 1,
        }),
        deadLetters: new FileDeadLetterSink(file),
      },
      records,
    );
    const [line] = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text));
    expect(line.failed.map((failure: { event: { detail: unknown } }) => failure.event.detail)).toEqual(
      records.map((record) => record.detail),
    );
    // Redrive the dead letters to the platform's bus: they reach the records.
    const live = new EventBridgePublisher({
      client: new EventBridgeClient({ ...aws, endpoint: info.endpoints.eventBridge }),
      eventBusName: info.eventBusName,
    });
    const redriven = await live.publish(line.failed.map((failure: { event: unknown }) => failure.event));
    expect(redriven.failed).toEqual([]);
    const rollups = await eventually(
      () => usage.dailyRollups(tenantId, '2021-07-02', '2021-07-02'),
      (found) => found.length > 0,
    );
    expect(rollups[0]?.quantity).toBe(3);
  });
});

describe('record routes through the platform', () => {
  let owner: Actor;
  let admin: Actor;
  let finance: Actor;
  let other: Actor;
  let tenant: { tenantId: string; name: string };
  let otherTenant: { tenantId: string; name: string };

  beforeAll(async () => {
    [owner, admin, finance, other] = await Promise.all([
      newActor(client, 'rec-owner'),
      newActor(client, 'rec-admin'),
      newActor(client, 'rec-finance', { groups: ['finance'] }),
      newActor(client, 'rec-other'),
    ]);
    [tenant, otherTenant] = await Promise.all([
      newTenant(owner, `Records ${randomUUID().slice(0, 4)}`),
      newTenant(other, '=Formula, "Quoted" Ltd'),
    ]);
    await addMember(owner, tenant.tenantId, admin, 'admin');
  }, 60_000);

  it('audits mutating requests with passwords, tokens and secrets left out', async () => {
    // Act: an invite whose body carries secrets (refused by the strict schema), and an accepted one.
    const secretValues = ['hunter2-Secret!', 'tok_9f8e7d6c5b4a', 'sk_live_abcdefghijklmnop'];
    const refused = await owner.call('POST', `/tenants/${tenant.tenantId}/members`, {
      email: 'x@example.com',
      role: 'member',
      password: secretValues[0],
      token: secretValues[1],
      note: secretValues[2],
    });
    expect(refused.status).toBe(400);
    const accepted = await newActor(client, 'rec-invitee');
    await addMember(owner, tenant.tenantId, accepted, 'member');

    // Assert: both are in the tenant's audit, through the API and in the table, with no secret.
    const listed = await eventually(
      () => owner.call('GET', `/tenants/${tenant.tenantId}/audit?action=members.invite`),
      (response) => ((response.body as { items?: unknown[] }).items?.length ?? 0) >= 3,
    );
    const items = (
      listed.body as { items: { outcome: string; statusCode: number; details: object; userId: string }[] }
    ).items;
    expect(items.map((item) => item.statusCode).sort()).toEqual([201, 201, 400]);
    expect(items.find((item) => item.statusCode === 400)).toMatchObject({
      outcome: 'failed',
      userId: owner.userId,
      details: { rejectedFields: ['email', 'role', 'password', 'token', 'note'] },
    });
    const stored = JSON.stringify(await auditItemsOf(dynamo, info.tables.audit, tenant.tenantId));
    for (const secret of [...secretValues, owner.token, 'Correct-Horse-42!'])
      expect(stored).not.toContain(secret);
  });

  it('audits a refused request on another tenant under that tenant, and keeps it from the intruder', async () => {
    const attempt = await owner.call('POST', `/tenants/${otherTenant.tenantId}/members`, {
      email: 'y@example.com',
      role: 'admin',
    });
    expect(attempt.status).toBe(404);
    const listed = await eventually(
      () => other.call('GET', `/tenants/${otherTenant.tenantId}/audit?userId=${owner.userId}`),
      (response) => ((response.body as { items?: unknown[] }).items?.length ?? 0) > 0,
    );
    expect((listed.body as { items: unknown[] }).items[0]).toMatchObject({
      outcome: 'denied',
      statusCode: 404,
      userId: owner.userId,
    });
    // A tenant admin cannot read another tenant's audit.
    expect((await admin.call('GET', `/tenants/${otherTenant.tenantId}/audit`)).status).toBe(404);
  });

  it('pages audit records with a cursor, newest first', async () => {
    const tenantId = tenant.tenantId;
    // Recent enough to be inside the retention (older records are filtered as expired).
    const base = Date.now() - 3_600_000;
    const from = new Date(base - 1000).toISOString();
    const to = new Date(base + 10_000).toISOString();
    for (let i = 0; i < 5; i++) {
      await auditHandler(
        busEvent(
          { source: 'tenantry.api', detailType: 'Audit Record' },
          {
            tenantId,
            userId: 'paging-user',
            action: 'rows.insert',
            resource: '/x',
            outcome: 'success',
            statusCode: 201,
            requestId: `p${i}`,
            at: new Date(base + i * 1000).toISOString(),
          },
        ),
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `from=${from}&to=${to}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await owner.call('GET', `/tenants/${tenantId}/audit?${query}`);
      expect(page.status).toBe(200);
      const body = page.body as { items: { requestId: string }[]; nextCursor: string | null };
      seen.push(...body.items.map((item) => item.requestId));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['p4', 'p3', 'p2', 'p1', 'p0']);
    // Past the retention: filtered on read (the local DynamoDB API has no TTL).
    await auditHandler(
      busEvent(
        { source: 'tenantry.api', detailType: 'Audit Record' },
        {
          tenantId,
          userId: 'paging-user',
          action: 'rows.insert',
          resource: '/x',
          outcome: 'success',
          statusCode: 201,
          requestId: 'expired',
          at: '2001-01-01T00:00:00.000Z',
        },
      ),
    );
    const old = await owner.call(
      'GET',
      `/tenants/${tenantId}/audit?from=2000-12-31T00:00:00Z&to=2001-01-02T00:00:00Z`,
    );
    expect(old.body).toEqual({ items: [], nextCursor: null });
    expect(
      (await auditItemsOf(dynamo, info.tables.audit, tenantId)).some(
        (item) => item.requestId?.S === 'expired',
      ),
    ).toBe(true);
  });

  it('reports usage per day and month, and request metrics per hour', async () => {
    const tenantId = tenant.tenantId;
    for (const [day, quantity] of [
      ['2021-03-01', 2],
      ['2021-03-02', 3],
      ['2021-04-01', 4],
    ] as const) {
      await usageHandler(
        busEvent(UsageRecorded, usageDetail(tenantId, `${day}T12:00:00.000Z`, quantity, 'rows_written')),
      );
    }
    const daily = await owner.call(
      'GET',
      `/tenants/${tenantId}/usage?from=2021-03-01&to=2021-04-30&resourceType=rows_written`,
    );
    expect(daily.status).toBe(200);
    expect((daily.body as { items: unknown[] }).items).toEqual([
      { period: '2021-03-01', resourceType: 'rows_written', quantity: 2, unit: 'count' },
      { period: '2021-03-02', resourceType: 'rows_written', quantity: 3, unit: 'count' },
      { period: '2021-04-01', resourceType: 'rows_written', quantity: 4, unit: 'count' },
    ]);
    const monthly = await owner.call(
      'GET',
      `/tenants/${tenantId}/usage?granularity=month&from=2021-03-01&to=2021-04-30`,
    );
    expect((monthly.body as { items: unknown[] }).items).toEqual([
      { period: '2021-03', resourceType: 'rows_written', quantity: 5, unit: 'count' },
      { period: '2021-04', resourceType: 'rows_written', quantity: 4, unit: 'count' },
    ]);

    // The requests of this suite were metered: api_calls today, and hourly metrics.
    const today = new Date().toISOString().slice(0, 10);
    const calls = await eventually(
      () => owner.call('GET', `/tenants/${tenantId}/usage?from=${today}&to=${today}&resourceType=api_calls`),
      (response) => ((response.body as { items?: { quantity: number }[] }).items?.[0]?.quantity ?? 0) >= 3,
    );
    expect((calls.body as { items: { quantity: number }[] }).items[0]?.quantity).toBeGreaterThanOrEqual(3);
    const hourly = await eventually(
      () => owner.call('GET', `/tenants/${tenantId}/metrics`),
      (response) => ((response.body as { items?: unknown[] }).items?.length ?? 0) > 0,
    );
    const [hour] = (hourly.body as { items: { requests: number; p50: number | null; p99: number | null }[] })
      .items;
    expect(hour?.requests).toBeGreaterThan(0);
    expect(hour?.p50).not.toBeNull();
    expect(hour?.p99 ?? 0).toBeGreaterThanOrEqual(hour?.p50 ?? 0);
  });

  it('exports a month whose totals equal the raw records, to finance only', async () => {
    // Arrange: usage of two tenants in 2020-03, some of it replayed.
    const month = '2020-03';
    const seeds = [
      [tenant.tenantId, 'api_calls', 5, '2020-03-01T00:00:00.000Z'],
      [tenant.tenantId, 'api_calls', 7, '2020-03-31T23:59:59.999Z'],
      [tenant.tenantId, 'rows_written', 11, '2020-03-15T12:00:00.000Z'],
      [otherTenant.tenantId, 'api_calls', 13, '2020-03-10T08:00:00.000Z'],
      [otherTenant.tenantId, 'api_calls', 99, '2020-04-01T00:00:00.000Z'], // April: not in March
    ] as const;
    for (const [tenantId, type, quantity, at] of seeds) {
      const event = busEvent(UsageRecorded, usageDetail(tenantId, at, quantity, type));
      await Promise.all([usageHandler(event), usageHandler(event)]);
    }
    // Act
    const json = await finance.call('GET', `/usage/exports?month=${month}&format=json`);
    const csv = await finance.call('GET', `/usage/exports?month=${month}`);
    // Assert: the lines of both tenants equal the raw sums.
    expect(json.status).toBe(200);
    const lines = (
      json.body as {
        lines: { tenantId: string; resourceType: string; quantity: number; tenantName: string }[];
      }
    ).lines;
    for (const t of [tenant, otherTenant]) {
      const fromLines = Object.fromEntries(
        lines
          .filter((line) => line.tenantId === t.tenantId)
          .map((line) => [line.resourceType, line.quantity]),
      );
      expect(fromLines).toEqual(await rawSums(t.tenantId, month));
    }
    expect(fromTenant(lines, tenant.tenantId)).toEqual({ api_calls: 12, rows_written: 11 });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parseCsv(String(csv.body));
    expect(rows[0]).toEqual([
      'tenant_id',
      'tenant_name',
      'month',
      'resource_type',
      'quantity',
      'unit',
      'plan',
      'parent_id',
      'root_id',
    ]);
    expect(rows).toContainEqual([
      otherTenant.tenantId,
      `'=Formula, "Quoted" Ltd`,
      month,
      'api_calls',
      '13',
      'count',
      // The tenant's plan (the test platform's default one); a root: no parent, its own root.
      TEST_PLANS.defaultPlan,
      '',
      otherTenant.tenantId,
    ]);
    // One tenant only; and nobody but finance and platform admins.
    const one = await finance.call(
      'GET',
      `/usage/exports?month=${month}&format=json&tenantId=${otherTenant.tenantId}`,
    );
    // Finance holds no membership of the tenant and still gets its lines (docs/audit-usage.md).
    expect(one.status).toBe(200);
    expect((one.body as { lines: unknown[] }).lines).toHaveLength(1);
    expect((await owner.call('GET', `/usage/exports?month=${month}`)).status).toBe(403);
    expect(
      (await admin.call('GET', `/usage/exports?month=${month}&tenantId=${otherTenant.tenantId}`)).status,
    ).toBe(403);
    expect((await admin.call('GET', '/usage/exports/archive')).status).toBe(403);
  });

  it('closes a month on demand over HTTP: finance and platform admins only, same answer twice, 409 for an unfinished month', async () => {
    // A month no other test writes to: its archive starts empty.
    const month = '1990-03';
    const path = `/usage/exports/${month}/close`;
    expect((await owner.call('POST', path)).status).toBe(403);
    expect((await admin.call('POST', path)).status).toBe(403);
    expect((await finance.call('GET', `/usage/exports/archive/${month}`)).status).toBe(404);
    const first = expectStatus(await finance.call('POST', path), 200);
    expect(first.headers.get('x-tenantry-month-close')).toBe('created');
    const second = expectStatus(await finance.call('POST', path), 200);
    expect(second.headers.get('x-tenantry-month-close')).toBe('existing');
    expect(second.body).toEqual(first.body);
    expect(first.body).toMatchObject({ month });
    expect((await finance.call('GET', `/usage/exports/archive/${month}`)).status).toBe(200);
    const now = new Date();
    const current = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    for (const unfinished of [current, '2999-12']) {
      const refused = await finance.call('POST', `/usage/exports/${unfinished}/close`);
      expect({ unfinished, status: refused.status }).toEqual({ unfinished, status: 409 });
      expect((await finance.call('GET', `/usage/exports/archive/${unfinished}`)).status).toBe(404);
    }
  });

  it('closes a month immutably; a late event becomes an adjustment line of the next export', async () => {
    // Arrange: usage in 2020-05, then the month is closed.
    const tenantId = tenant.tenantId;
    await usageHandler(busEvent(UsageRecorded, usageDetail(tenantId, '2020-05-05T00:00:00.000Z', 40)));
    await usageHandler(busEvent(UsageRecorded, usageDetail(tenantId, '2020-06-05T00:00:00.000Z', 8)));
    const may = await closeMonth(exportDeps, '2020-05');
    expect(may.created).toBe(true);
    expect(fromTenant(may.export.lines, tenantId)).toEqual({ api_calls: 40 });
    // Act: a late May event, then June is closed; May is closed again (no-op).
    await usageHandler(busEvent(UsageRecorded, usageDetail(tenantId, '2020-05-20T00:00:00.000Z', 2)));
    const mayAgain = await closeMonth(exportDeps, '2020-05');
    const june = await closeMonth(exportDeps, '2020-06');
    // Assert
    expect(mayAgain).toMatchObject({ created: false });
    expect(mayAgain.export.csv).toBe(may.export.csv);
    const juneLines = june.export.lines.filter((line) => line.tenantId === tenantId);
    expect(juneLines).toEqual([
      {
        tenantId,
        tenantName: tenant.name,
        month: '2020-06',
        resourceType: 'api_calls',
        quantity: 8,
        unit: 'count',
        plan: TEST_PLANS.defaultPlan,
        // A root: no parent, its own root.
        parentId: null,
        rootId: tenantId,
      },
      {
        tenantId,
        tenantName: tenant.name,
        month: '2020-05',
        resourceType: 'api_calls',
        quantity: 2,
        unit: 'count',
        plan: TEST_PLANS.defaultPlan,
        // A root: no parent, its own root.
        parentId: null,
        rootId: tenantId,
      },
    ]);
    // Finance sees the archived, unchanged May (closed) and can list and download the archive.
    const served = await finance.call('GET', '/usage/exports?month=2020-05');
    expect(served.headers.get('x-tenantry-export-status')).toBe('closed');
    expect(served.body).toBe(may.export.csv);
    const listed = await finance.call('GET', '/usage/exports/archive');
    expect((listed.body as { items: { month: string }[] }).items.map((item) => item.month)).toEqual(
      expect.arrayContaining(['2020-06', '2020-05']),
    );
    const download = await finance.call('GET', '/usage/exports/archive/2020-06');
    expect(download.body).toBe(june.export.csv);
    expect((await finance.call('GET', '/usage/exports/archive/1999-01')).status).toBe(404);
    // A third close of June, after yet another late May event: still the same file.
    await usageHandler(busEvent(UsageRecorded, usageDetail(tenantId, '2020-05-21T00:00:00.000Z', 1)));
    expect((await closeMonth(exportDeps, '2020-06')).export.csv).toBe(june.export.csv);
    const july = await closeMonth(exportDeps, '2020-07');
    expect(july.export.lines.filter((line) => line.tenantId === tenantId)).toEqual([
      {
        tenantId,
        tenantName: tenant.name,
        month: '2020-05',
        resourceType: 'api_calls',
        quantity: 1,
        unit: 'count',
        plan: TEST_PLANS.defaultPlan,
        // A root: no parent, its own root.
        parentId: null,
        rootId: tenantId,
      },
    ]);
    // The benchmark hook reads the same rollups.
    const timed = await timeTenantMonthExport(usage, { id: tenantId, name: tenant.name }, '2020-05');
    expect(fromTenant(timed.lines, tenantId)).toEqual({ api_calls: 43 });
    // Five closes, each reconciling every tenant of the suite's shared platform: its time grows
    // with the suite's tenants and the machine's load, not with this test (docs/benchmarks.md, Export).
  }, 120_000);

  it('measures tenant storage and publishes it as usage, run as the scheduled job', async () => {
    // Act: the job itself, on the platform's Lambda endpoint, with its own role: it measures each
    // database as that database's tenant (a tenant-access session), never as the master.
    const lambda = new LambdaClient({ ...aws, endpoint: info.endpoints.lambda, maxAttempts: 1 });
    const answer = await lambda
      .send(new InvokeCommand({ FunctionName: localFunctionName(RECORD_JOB_HANDLERS.storageSnapshot) }))
      .finally(() => lambda.destroy());

    // Assert
    expect(answer.FunctionError).toBeUndefined();
    const result = JSON.parse(Buffer.from(answer.Payload ?? []).toString('utf8')) as {
      tenants: number;
      events: number;
    };
    expect(result.tenants).toBeGreaterThan(0);
    expect(result.events).toBe(result.tenants * 2);
    const today = new Date().toISOString().slice(0, 10);
    const [databases] = await eventually(
      () => usage.dailyRollups(tenant.tenantId, today, today, 'databases'),
      (found) => found.length > 0,
    );
    expect(databases?.quantity).toBe(1);
    const [bytes] = await eventually(
      () => usage.dailyRollups(tenant.tenantId, today, today, 'storage_bytes'),
      (found) => found.length > 0,
    );
    expect(bytes?.quantity).toBeGreaterThan(0);
  });

  describe('bad input and foreign tenants', () => {
    const tenantRoutes = ['audit', 'usage', 'metrics'] as const;
    const badQueries = {
      audit: [
        'from=yesterday',
        'limit=0',
        'limit=101',
        'action=DROP TABLE',
        'cursor=bm90LWEtY3Vyc29y',
        'from=2021-02-01T00:00:00Z&to=2021-01-01T00:00:00Z',
        'extra=1',
      ],
      usage: [
        'granularity=week',
        'from=2021-13-01',
        'resourceType=API',
        'from=2020-01-01&to=2021-06-01',
        'extra=1',
      ],
      metrics: ['from=noon', 'from=2021-01-01T00:00:00Z&to=2021-03-01T00:00:00Z', 'extra=1'],
    };

    it.each(tenantRoutes)(
      'GET /tenants/{tenantId}/%s answers 400 to a bad query and 404 for a foreign tenant',
      async (route) => {
        for (const query of badQueries[route]) {
          const response = await owner.call('GET', `/tenants/${tenant.tenantId}/${route}?${query}`);
          expect({ query, status: response.status }).toEqual({ query, status: 400 });
        }
        expect((await owner.call('GET', `/tenants/${otherTenant.tenantId}/${route}`)).status).toBe(404);
        expect((await owner.call('GET', `/tenants/${fakeTenant()}/${route}`)).status).toBe(404);
        // The foreign tenant's 404 carries nothing of it.
        const foreign = await owner.call('GET', `/tenants/${otherTenant.tenantId}/${route}`);
        expect(JSON.stringify(foreign.body)).not.toContain(otherTenant.name);
      },
    );

    it('finance routes answer 400 to a bad query', async () => {
      for (const query of [
        '',
        'month=2021-13',
        'month=2021-1',
        'month=2021-01&format=xml',
        'month=2021-01&tenantId=acme',
        'month=2999-01',
      ]) {
        const response = await finance.call('GET', `/usage/exports?${query}`);
        expect({ query, status: response.status }).toEqual({ query, status: 400 });
      }
      expect((await finance.call('GET', '/usage/exports/archive/2021-1')).status).toBe(400);
      expect((await finance.call('GET', '/usage/exports/archive/2020-05?format=pdf')).status).toBe(400);
      expect(
        (await finance.call('GET', `/usage/exports?month=2021-01&tenantId=${fakeTenant()}`)).status,
      ).toBe(404);
    });
  });
});

function fromTenant(
  lines: readonly { tenantId: string; resourceType: string; quantity: number }[],
  tenantId: string,
) {
  return Object.fromEntries(
    lines.filter((line) => line.tenantId === tenantId).map((line) => [line.resourceType, line.quantity]),
  );
}

describe('record routes: ranges and cursors a client makes up', () => {
  const info = inject('platform');
  const client = clientFor(info);
  let owner: Actor;
  let tenantId: string;

  beforeAll(async () => {
    owner = await newActor(client, 'ranges');
    ({ tenantId } = await newTenant(owner, 'Ranges'));
  });
  afterAll(() => client.close());

  it.each([
    ['audit', '/audit?from=2099-01-01T00:00:00Z'],
    ['usage', '/usage?from=2099-01-01'],
    ['metrics', '/metrics?from=2099-01-01T00:00:00Z'],
    ['usage, a span too long from one bound', '/usage?from=1970-01-01'],
    ['metrics, a span too long from one bound', '/metrics?from=1970-01-01T00:00:00Z'],
    [
      'audit, an empty cursor key',
      `/audit?cursor=${Buffer.from(JSON.stringify(['audit', ''])).toString('base64url')}`,
    ],
    [
      'audit, a cursor outside the range',
      `/audit?from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z&cursor=${Buffer.from(JSON.stringify(['audit', '2030-01-01T00:00:00.000Z#e1'])).toString('base64url')}`,
    ],
  ])('%s → 400, never 500', async (_, path) => {
    const response = await owner.call('GET', `/tenants/${tenantId}${path}`);
    expect(response.status).toBe(400);
  });
});
