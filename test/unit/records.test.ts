import 'aws-sdk-client-mock-vitest/extend';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { EventBridgePublisher } from '#shared/adapters/eventbridge-publisher';
import { FileDeadLetterSink } from '#shared/adapters/file-dead-letter';
import { entryOf } from '#shared/composition/record-consumers';
import { NotFound, ValidationFailed } from '#shared/errors';
import { InvalidEventDetail } from '#shared/events/consumer';
import {
  AuditRecord,
  type EventDetail,
  MetricSample,
  RequestRecorded,
  UsageRecorded,
} from '#shared/events/events';
import { busEvent } from '../support/record-batches.ts';

type RequestDetail = EventDetail<typeof RequestRecorded>;

import { csvCell, parseCsv, toCsv } from '#shared/exports/csv';
import { csvToLines, linesToCsv } from '#shared/exports/export-lines';
import { addMonths, daysOf } from '#shared/exports/months';
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
import { telemetry } from '#shared/http/telemetry';
import { type OutgoingEvent, outgoing } from '#shared/ports/event-publisher';
import type { TelemetrySink } from '#shared/ports/telemetry';
import type { TenantAccessPolicy } from '#shared/ports/tenant-access';
import { actionOf, outcomeOf } from '#shared/records/audit-actions';
import { emit } from '#shared/records/emission';
import { BUCKET_BOUNDS_MS, bucketOf, percentile } from '#shared/records/latency-histogram';
import { REDACTED, redact, redactedKeys } from '#shared/records/redaction';
import { routeList } from '#shared/routes/table';
import { defineRoute } from '#shared/routes/types';
import { DEFAULT_GRANT_PLAN } from '../support/grants.ts';
import { httpEvent, lambdaContext } from '../support/http-events.ts';

const TENANT = 't_abcdefghijklmnopqrst';

describe('redaction of audit details', () => {
  it('replaces values under secret-looking keys at any depth', () => {
    // Arrange
    const body = {
      email: 'a@example.com',
      password: 'hunter2',
      newPassword: 'x',
      nested: { apiKey: 'k', client_secret: 's', refresh_token: 'r', list: [{ Authorization: 'Bearer x' }] },
      credentials: { user: 'u' },
    };
    // Act
    const out = redact(body) as Record<string, unknown>;
    // Assert
    expect(out).toEqual({
      email: 'a@example.com',
      password: REDACTED,
      newPassword: REDACTED,
      nested: {
        apiKey: REDACTED,
        client_secret: REDACTED,
        refresh_token: REDACTED,
        list: [{ Authorization: REDACTED }],
      },
      credentials: REDACTED,
    });
  });

  it('replaces secret-looking values under innocent keys, and keeps ordinary values', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl';
    const out = redact({
      note: jwt,
      header: 'Bearer abc.def',
      key: 'AKIAABCDEFGHIJKLMNOP',
      url: 'postgres://admin:s3cret@db:5432/x',
      random: 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A',
      name: 'Acme Corp',
      tenantId: TENANT,
      count: 3,
    });
    expect(out).toEqual({
      note: REDACTED,
      header: REDACTED,
      key: REDACTED,
      url: REDACTED,
      random: REDACTED,
      name: 'Acme Corp',
      tenantId: TENANT,
      count: 3,
    });
  });

  it('bounds long strings, deep nesting and wide arrays', () => {
    const out = redact({
      text: 'a b '.repeat(200),
      deep: { a: { b: { c: { d: 1 } } } },
      list: Array(30).fill(1),
    }) as {
      text: string;
      deep: unknown;
      list: unknown[];
    };
    expect(out.text.length).toBeLessThanOrEqual(257);
    expect(out.deep).toEqual({ a: { b: { c: '[nested]' } } });
    expect(out.list).toHaveLength(21);
  });
});

describe('audit actions and outcomes', () => {
  it('maps operation ids to <collection>.<verb>', () => {
    const action = (operationId: string, routePath: string) => actionOf({ operationId, path: routePath });
    expect(action('inviteMember', '/tenants/{tenantId}/members')).toBe('members.invite');
    expect(action('changeMemberRole', '/tenants/{tenantId}/members/{userId}')).toBe('members.changeRole');
    expect(action('insertRow', '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows')).toBe(
      'rows.insert',
    );
    expect(action('registerTenant', '/tenants')).toBe('tenants.register');
    expect(action('setActiveTenant', '/me/active-tenant')).toBe('activeTenant.set');
    expect(action('assignRole', '/tenants/{tenantId}/members/{userId}/roles/{roleId}')).toBe('roles.assign');
    expect(action('acceptInvitation', '/me/invitations/{invitationId}/accept')).toBe('invitations.accept');
    expect(action('declineInvitation', '/me/invitations/{invitationId}/decline')).toBe('invitations.decline');
    expect(action('revokeInvitation', '/tenants/{tenantId}/invitations/{invitationId}')).toBe(
      'invitations.revoke',
    );
  });

  it('gives every mutating route of the table a distinct action', () => {
    const mutating = routeList.filter((route) => route.method !== 'GET');
    const actions = mutating.map(actionOf);
    expect(actions.every((a) => /^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/.test(a))).toBe(true);
    expect(new Set(actions).size).toBe(actions.length);
  });

  it('calls 401, 403 and an authorisation 404 denied; other errors failed', () => {
    expect(outcomeOf(201, true)).toBe('success');
    expect(outcomeOf(401, false)).toBe('denied');
    expect(outcomeOf(403, true)).toBe('denied');
    expect(outcomeOf(404, false)).toBe('denied');
    expect(outcomeOf(404, true)).toBe('failed');
    expect(outcomeOf(409, true)).toBe('failed');
    expect(outcomeOf(500, true)).toBe('failed');
  });
});

describe('latency histogram', () => {
  it('puts a latency in the first bucket whose bound holds it', () => {
    for (const latency of [0, 0.5, 1, 1.1, 7, 100, 999, 5000, 119_999, 500_000]) {
      const index = bucketOf(latency);
      const upper = BUCKET_BOUNDS_MS[index] ?? Number.POSITIVE_INFINITY;
      const lower = index === 0 ? -1 : (BUCKET_BOUNDS_MS[index - 1] ?? 0);
      expect(latency).toBeLessThanOrEqual(upper);
      expect(latency).toBeGreaterThan(lower);
    }
  });

  it('computes percentiles within a bucket (±25 %) of the exact ones', () => {
    // Arrange: 1..1000 ms, one request each.
    const counts: number[] = [];
    const latencies = Array.from({ length: 1000 }, (_, i) => i + 1);
    for (const latency of latencies) {
      const index = bucketOf(latency);
      counts[index] = (counts[index] ?? 0) + 1;
    }
    const dense = Array.from({ length: Math.max(...counts.keys()) + 1 }, (_, i) => counts[i] ?? 0);
    // Act + Assert
    for (const [p, exact] of [
      [50, 500],
      [95, 950],
      [99, 990],
    ] as const) {
      const estimate = percentile(dense, p) ?? 0;
      expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.25);
    }
    expect(percentile([], 50)).toBeNull();
    expect(percentile([0, 0, 5], 99)).toBeGreaterThan(BUCKET_BOUNDS_MS[1] ?? 0);
  });
});

describe('CSV', () => {
  it('quotes per RFC 4180 and neutralises formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\0=1+1')).toBe("'\0=1+1");
    expect(csvCell('a\0')).toBe('a\0');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(null)).toBe('');
    expect(toCsv(['a', 'b'], [[1, 'x']])).toBe('a,b\r\n1,x\r\n');
  });

  it('round-trips export lines, tenant names with commas, quotes and formulas included', () => {
    const lines = [
      {
        tenantId: TENANT,
        tenantName: '=cmd|"/C calc"!A0, Inc.',
        month: '2025-01',
        resourceType: 'api_calls',
        quantity: 12,
        unit: 'calls',
        plan: 'standard',
        parentId: null,
        rootId: TENANT,
      },
      {
        tenantId: TENANT,
        tenantName: 'Plain',
        month: '2024-12',
        resourceType: 'api_calls',
        quantity: -3,
        unit: 'calls',
        plan: 'free',
        parentId: TENANT,
        rootId: TENANT,
      },
    ];
    const csv = linesToCsv(lines);
    expect(parseCsv(csv)[1]?.[1]).toBe(`'=cmd|"/C calc"!A0, Inc.`);
    expect(csv.split('\r\n')[0]).toBe(
      'tenant_id,tenant_name,month,resource_type,quantity,unit,plan,parent_id,root_id',
    );
    expect(csvToLines(csv)).toEqual(lines);
  });

  it('reads files archived before plans and before hierarchies, with what they lack empty', () => {
    const old =
      'tenant_id,tenant_name,month,resource_type,quantity,unit\r\nt_1,Acme,2025-01,api_calls,4,calls\r\n';
    const line = {
      tenantId: 't_1',
      tenantName: 'Acme',
      month: '2025-01',
      resourceType: 'api_calls',
      quantity: 4,
      unit: 'calls',
      plan: '',
      parentId: null,
      rootId: null,
    };
    expect(csvToLines(old)).toEqual([line]);
    const withPlan =
      'tenant_id,tenant_name,month,resource_type,quantity,unit,plan\r\nt_1,Acme,2025-01,api_calls,4,calls,free\r\n';
    expect(csvToLines(withPlan)).toEqual([{ ...line, plan: 'free' }]);
    expect(() => csvToLines('tenant_id,month\r\n')).toThrow('Not a Tenantry usage export');
  });

  it('counts months and days in UTC', () => {
    expect(addMonths('2025-01', -1)).toBe('2024-12');
    expect(addMonths('2024-12', 1)).toBe('2025-01');
    expect(daysOf('2024-02')).toHaveLength(29);
    expect(daysOf('2025-02').at(-1)).toBe('2025-02-28');
  });
});

describe('EventBridge publisher', () => {
  const eventBridge = mockClient(EventBridgeClient);
  beforeEach(() => eventBridge.reset());
  const at = '2025-01-02T03:04:05.000Z';
  const events: OutgoingEvent[] = [
    outgoing(UsageRecorded, { tenantId: TENANT, resourceType: 'api_calls', quantity: 1, unit: 'calls', at }),
    outgoing(MetricSample, {
      tenantId: TENANT,
      operationId: 'getTenant',
      statusCode: 200,
      latencyMs: 12,
      at,
    }),
  ];

  it('sends the exact entries in one PutEvents call', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }, { EventId: '2' }] });
    const publisher = new EventBridgePublisher({
      client: new EventBridgeClient({}),
      eventBusName: 'bus',
      retryDelayMs: 0,
    });

    const result = await publisher.publish(events);

    expect(result.failed).toEqual([]);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(eventBridge).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        {
          EventBusName: 'bus',
          Source: 'tenantry.usage',
          DetailType: 'Usage Recorded',
          Detail: JSON.stringify({
            tenantId: TENANT,
            resourceType: 'api_calls',
            quantity: 1,
            unit: 'calls',
            at,
          }),
        },
        {
          EventBusName: 'bus',
          Source: 'tenantry.api',
          DetailType: 'Metric Sample',
          Detail: JSON.stringify({
            tenantId: TENANT,
            operationId: 'getTenant',
            statusCode: 200,
            latencyMs: 12,
            at,
          }),
        },
      ],
    });
  });

  it('retries only the entries that failed, once, and returns what still fails', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: '1' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
      })
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }],
      });
    const publisher = new EventBridgePublisher({
      client: new EventBridgeClient({}),
      eventBusName: 'bus',
      retryDelayMs: 0,
    });

    const result = await publisher.publish(events);

    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 2);
    const retry = eventBridge.commandCalls(PutEventsCommand)[1]?.args[0].input.Entries ?? [];
    expect(retry.map((entry) => entry.DetailType)).toEqual(['Metric Sample']);
    expect(result.failed).toEqual([{ event: events[1], code: 'InternalFailure', message: 'boom' }]);
  });

  it('splits more than 10 events into calls of at most 10', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: String(i) })),
    }));
    const publisher = new EventBridgePublisher({ client: new EventBridgeClient({}), eventBusName: 'bus' });
    await publisher.publish(Array(23).fill(events[0]));
    expect(
      eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.length),
    ).toEqual([10, 10, 3]);
  });
});

describe('telemetry middleware', () => {
  const widget = defineRoute({
    operationId: 'createWidget',
    method: 'POST',
    path: '/tenants/{tenantId}/widgets',
    summary: 'test',
    tags: ['test'],
    access: { kind: 'tenant', permission: 'rows:write' },
    handler: 'test/create-widget',
    needs: [],
    request: {
      params: z.object({ tenantId: z.string() }),
      body: z.strictObject({
        name: z.string(),
        password: z.string().optional(),
        apiToken: z.string().optional(),
      }),
    },
    responses: { 201: { description: 'created' } },
  });
  const member: TenantAccessPolicy = {
    authorize: async (_caller, tenantId) => ({
      tenantId,
      role: 'owner',
      permissions: new Set(['rows:write']),
      suspended: false,
      ...DEFAULT_GRANT_PLAN,
    }),
  };
  const stranger: TenantAccessPolicy = {
    authorize: async () => {
      throw new NotFound('Tenant not found');
    },
  };
  /** The chain of shared/http/handler.ts, with a sink that keeps what it is given. */
  function chain(
    policy: TenantAccessPolicy,
    sink: TelemetrySink,
    useCase: (event: HttpEvent) => Promise<HttpResponse> = async (event) =>
      jsonResponse(201, { ok: true }, stateOf(event).requestId),
  ) {
    return middy<HttpEvent, HttpResponse>({ timeoutEarlyInMillis: 0 })
      .use(requestContext(widget))
      .use(telemetry(widget, { sink: () => sink }))
      .use(errorMapping())
      .use(authorization(widget, () => policy))
      .use(validation(widget))
      .handler(useCase);
  }
  const recordingSink = () => {
    const published: OutgoingEvent[][] = [];
    const sink: TelemetrySink = {
      publisher: {
        publish: async (records) => {
          published.push([...records]);
          return { failed: [] };
        },
      },
      deadLetters: { write: async () => {} },
    };
    return { sink, published };
  };
  const event = (body: unknown) =>
    httpEvent({
      method: 'POST',
      path: `/tenants/${TENANT}/widgets`,
      pathParameters: { tenantId: TENANT },
      body,
    });

  it('publishes audit, usage and metric in one entry of one call, with secrets redacted', async () => {
    const { sink, published } = recordingSink();
    const response = await chain(member, sink)(
      event({ name: 'w', password: 'hunter2', apiToken: 'abc' }),
      lambdaContext,
    );

    expect(response.statusCode).toBe(201);
    expect(published).toHaveLength(1);
    expect(published[0]?.map((entry) => entry.detailType)).toEqual([RequestRecorded.detailType]);
    const { audit, usage, metric, requestId } = (published[0]?.[0]?.detail ?? {}) as RequestDetail;
    expect(requestId).toBe('req-test');
    expect(audit).toMatchObject({
      tenantId: TENANT,
      userId: 'user-1',
      action: 'widgets.create',
      resource: `/tenants/${TENANT}/widgets`,
      outcome: 'success',
      statusCode: 201,
      requestId: 'req-test',
      details: { body: { name: 'w', password: REDACTED, apiToken: REDACTED } },
    });
    expect(JSON.stringify(published)).not.toMatch(/hunter2|"abc"/);
    expect(usage).toMatchObject({ tenantId: TENANT, resourceType: 'api_calls', quantity: 1 });
    expect(metric).toMatchObject({ tenantId: TENANT, operationId: 'createWidget', statusCode: 201 });
    // Within EventBridge's entry size (256 KB): the audit details are bounded.
    expect(Buffer.byteLength(JSON.stringify(published[0]?.[0]?.detail))).toBeLessThan(8 * 1024);
  });

  it('bills nothing to a suspended tenant, also on a call it was let through', async () => {
    // Arrange: a grant on a suspended tenant (a route open while suspended, or a platform admin).
    const suspended: TenantAccessPolicy = {
      authorize: async (caller, tenantId, permission) => ({
        ...(await member.authorize(caller, tenantId, permission)),
        suspended: true,
      }),
    };
    const { sink, published } = recordingSink();
    // Act
    const response = await chain(suspended, sink)(event({ name: 'w' }), lambdaContext);
    // Assert: audited and measured under the tenant, but no api_calls.
    expect(response.statusCode).toBe(201);
    const detail = published[0]?.[0]?.detail as RequestDetail;
    expect(Object.keys(detail).sort()).toEqual(['audit', 'metric', 'requestId']);
    expect(detail.metric).toMatchObject({ tenantId: TENANT });
  });

  it('audits a denied request under the path tenant and bills nobody', async () => {
    const { sink, published } = recordingSink();
    const response = await chain(stranger, sink)(event({ name: 'w', password: 'hunter2' }), lambdaContext);

    expect(response.statusCode).toBe(404);
    const detail = published[0]?.[0]?.detail as RequestDetail;
    expect(Object.keys(detail).sort()).toEqual(['audit', 'metric', 'requestId']);
    expect(detail.audit).toMatchObject({ tenantId: TENANT, outcome: 'denied', statusCode: 404 });
    expect(detail.metric).toMatchObject({ tenantId: null, statusCode: 404 });
    // The body never passed validation: only its field names are kept.
    expect(detail.audit?.details).toMatchObject({ rejectedFields: ['name', 'password'] });
    expect(JSON.stringify(published)).not.toContain('hunter2');
  });

  it('records a body the use case refused (400) by its field names only, like one the route refused', async () => {
    // Arrange: the route's schema accepts the body; the use case then refuses it, as a row
    // checked against its table's columns is.
    const { sink, published } = recordingSink();
    const refuse = async () => {
      throw new ValidationFailed('Invalid body: name', { details: [] });
    };
    // Act
    const response = await chain(member, sink, refuse)(event({ name: 'secret-ref-4711' }), lambdaContext);
    // Assert
    expect(response.statusCode).toBe(400);
    const details = (published[0]?.[0]?.detail as RequestDetail | undefined)?.audit?.details;
    expect(details).toEqual({ method: 'POST', operationId: 'createWidget', rejectedFields: ['name'] });
    expect(JSON.stringify(published)).not.toContain('secret-ref-4711');
  });

  it('keeps prototype-named and empty keys as bracketed plain data and unstorable numbers as text', () => {
    // Arrange: what JSON.parse makes of a hostile body (own "__proto__" and "constructor" keys).
    const body = JSON.parse(
      '{"__proto__":{"polluted":true},"constructor":{"name":"x"},"prototype":1,"":2,' +
        '"big":12345678901234567890,"huge":1e300,"tiny":1e-200,"ok":1.5,"n":-7}',
    ) as unknown;
    // Act
    const kept = redact(body) as Record<string, unknown>;
    // Assert
    expect(Object.getPrototypeOf(kept)).toBe(Object.prototype);
    expect(Object.keys(kept)).toEqual([
      '[__proto__]',
      '[constructor]',
      '[prototype]',
      '[]',
      'big',
      'huge',
      'tiny',
      'ok',
      'n',
    ]);
    expect(kept).toMatchObject({
      '[__proto__]': { polluted: true },
      big: '12345678901234567000',
      huge: '1e+300',
      tiny: '1e-200',
      ok: 1.5,
      n: -7,
    });
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(redactedKeys(body as object)).toEqual(Object.keys(kept));
  });

  it('keeps the answer when publishing fails, and dead-letters the records', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tenantry-telemetry-'));
    try {
      const file = path.join(dir, 'dead.jsonl');
      const sink: TelemetrySink = {
        publisher: { publish: async () => Promise.reject(new Error('unreachable')) },
        deadLetters: new FileDeadLetterSink(file),
      };
      // A publisher that rejects everything (the real adapter never throws; this one must not matter).
      const throwing = await chain(member, sink)(event({ name: 'w' }), lambdaContext);
      expect(throwing.statusCode).toBe(201);

      const failing: TelemetrySink = {
        publisher: {
          publish: async (records) => ({
            failed: records.map((e) => ({ event: e, code: 'X', message: 'no' })),
          }),
        },
        deadLetters: new FileDeadLetterSink(file),
      };
      const response = await chain(member, failing)(event({ name: 'w', password: 'p' }), lambdaContext);

      expect(response.statusCode).toBe(201);
      const lines = (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines).toHaveLength(2);
      expect(lines[1].failed.map((f: { event: OutgoingEvent }) => f.event.detailType)).toEqual([
        'Request Recorded',
      ]);
      expect(Object.keys(lines[1].failed[0].event.detail).sort()).toEqual([
        'audit',
        'metric',
        'requestId',
        'usage',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('emit never throws, even when the dead-letter path fails too', async () => {
    const sink: TelemetrySink = {
      publisher: {
        publish: async (records) => ({
          failed: records.map((e) => ({ event: e, code: 'X', message: 'no' })),
        }),
      },
      deadLetters: { write: async () => Promise.reject(new Error('disk full')) },
    };
    await expect(
      emit(sink, [
        outgoing(MetricSample, {
          tenantId: null,
          operationId: 'x',
          statusCode: 200,
          latencyMs: 1,
          at: new Date().toISOString(),
        }),
      ]),
    ).resolves.toBeUndefined();
  });
});

describe('records consumer: what a queue message holds', () => {
  const at = '2022-01-01T00:00:00.000Z';
  const metric = { tenantId: null, operationId: 'getHealth', statusCode: 200, latencyMs: 3, at };
  const message = (event: unknown) => ({ messageId: 'm1', body: JSON.stringify(event) });

  it('decodes a Request Recorded and each per-record event into the records of its event', () => {
    const request = busEvent(RequestRecorded, { requestId: 'r', metric }, 'e1');
    const usage = busEvent(
      UsageRecorded,
      { tenantId: TENANT, resourceType: 'storage_bytes', quantity: 5, unit: 'bytes', at },
      'e2',
    );
    expect(entryOf(message(request))).toEqual({ id: 'm1', eventId: 'e1', metric });
    expect(entryOf(message(usage))).toMatchObject({ eventId: 'e2', usage: { quantity: 5 } });
    expect(entryOf(message(busEvent(MetricSample, metric, 'e3')))).toMatchObject({ eventId: 'e3', metric });
  });

  it.each([
    ['a body that is not JSON', '{'],
    ['an event without an id', JSON.stringify({ 'detail-type': 'Metric Sample', detail: metric })],
    ['a detail its schema refuses', JSON.stringify(busEvent(RequestRecorded, { requestId: 'r' }))],
    ['a detail-type it does not take', JSON.stringify(busEvent(AuditRecord, {}, 'e').detail)],
    [
      'another event of the catalog',
      JSON.stringify({ ...busEvent(MetricSample, metric), 'detail-type': 'Tenant Registered' }),
    ],
  ])('refuses %s (the message fails, and is dead-lettered by its queue)', (_case, body) => {
    expect(() => entryOf({ messageId: 'm', body })).toThrow(InvalidEventDetail);
  });
});
