import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import type { Services } from '#shared/composition/services';
import { DATA_API_STATEMENT_TIMEOUT_SECONDS, DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '#shared/config';
import {
  DEFAULT_IDEMPOTENCY_SETTINGS,
  IDEMPOTENCY_LEASE_SECONDS,
  RESPONSE_PART_CHARS,
  responseParts,
} from '#shared/control/idempotency-records';
import {
  DATABASE_ID_PATTERN,
  derivedDatabaseId,
  derivedRoleId,
  derivedRowId,
  derivedUpgradeId,
  ROLE_ID_PATTERN,
} from '#shared/control/ids';
import { rowIdSchema } from '#shared/data/row-query';
import { Conflict } from '#shared/errors';
import { httpHandler } from '#shared/http/handler';
import { keepsAnswer, REPLAYED_HEADER, requestFingerprint } from '#shared/http/idempotency';
import { UPGRADE_ID_PATTERN } from '#shared/modules/upgrades';
import type {
  ClaimOutcome,
  IdempotencyStore,
  IdempotentAttempt,
  IdempotentRequest,
  StoredResponse,
} from '#shared/ports/idempotency';
import type { TenantAccessPolicy } from '#shared/ports/tenant-access';
import { openApiDocument } from '#shared/routes/openapi';
import { routeList } from '#shared/routes/table';
import { defineRoute } from '#shared/routes/types';
import { DEFAULT_GRANT_PLAN } from '../support/grants.ts';
import { httpEvent, lambdaContext } from '../support/http-events.ts';

/**
 * The Idempotency-Key policy of the middleware, on a store kept in memory (the store's own
 * behaviour on PostgreSQL: test/integration/idempotency-records.test.ts; end to end:
 * test/integration/idempotency.test.ts).
 */

const createWidget = defineRoute({
  operationId: 'createWidget',
  method: 'POST',
  path: '/tenants/{tenantId}/widgets',
  summary: 'test route',
  tags: ['test'],
  access: { kind: 'tenant', permission: 'rows:write' },
  handler: 'test/create-widget',
  needs: ['controlDb'],
  idempotent: true,
  request: { params: z.object({ tenantId: z.string() }), body: z.strictObject({ name: z.string() }) },
  responses: { 201: { description: 'created' } },
});

const allowAll: TenantAccessPolicy = {
  authorize: async (_caller, tenantId) => ({
    tenantId,
    role: 'owner',
    permissions: new Set(['rows:write']),
    suspended: false,
    ...DEFAULT_GRANT_PLAN,
  }),
};

interface Held {
  request: IdempotentRequest;
  token: string;
  attempt: number;
  leaseUntil: number;
  startedAt: number;
  response?: StoredResponse;
}

/** The store's state changes, in a Map: enough to drive the middleware. */
class MemoryStore implements IdempotencyStore {
  readonly held = new Map<string, Held>();
  readonly calls: string[] = [];
  constructor(readonly settings = { ...DEFAULT_IDEMPOTENCY_SETTINGS, waitMs: 200 }) {}

  async claim(request: IdempotentRequest): Promise<ClaimOutcome> {
    this.calls.push('claim');
    const id = `${request.userId}/${request.key}`;
    const now = this.settings.now().getTime();
    const held = this.held.get(id);
    if (!held) {
      const token = randomUUID();
      this.held.set(id, { request, token, attempt: 1, leaseUntil: now + 90_000, startedAt: now });
      return { kind: 'claimed', attempt: { key: request.key, token, attempt: 1, rerun: false } };
    }
    if (held.request.fingerprint !== request.fingerprint) return { kind: 'mismatch' };
    if (held.response) return { kind: 'completed', response: held.response };
    if (held.leaseUntil > now) {
      return {
        kind: 'in_progress',
        startedAt: new Date(held.startedAt),
        leaseUntil: new Date(held.leaseUntil),
      };
    }
    held.attempt += 1;
    held.leaseUntil = now + 90_000;
    return {
      kind: 'claimed',
      attempt: { key: request.key, token: held.token, attempt: held.attempt, rerun: true },
    };
  }

  async complete(request: IdempotentRequest, attempt: IdempotentAttempt, response: StoredResponse) {
    this.calls.push(`complete ${response.statusCode}`);
    const held = this.held.get(`${request.userId}/${request.key}`);
    if (held?.attempt !== attempt.attempt) return false;
    held.response = response;
    return true;
  }

  async release(request: IdempotentRequest) {
    this.calls.push('release');
    const held = this.held.get(`${request.userId}/${request.key}`);
    if (held) held.leaseUntil = this.settings.now().getTime();
  }

  async purgeExpired() {
    return 0;
  }
}

function widgets(store: MemoryStore, impl: Parameters<typeof httpHandler<typeof createWidget>>[1]) {
  return httpHandler(createWidget, impl, { tenantAccess: () => allowAll, telemetry: () => null }).with({
    idempotency: store,
  } as unknown as Services);
}

const post = (body: unknown, key?: string, requestId = 'req-test') => {
  const event = httpEvent({
    method: 'POST',
    path: '/tenants/t1/widgets',
    pathParameters: { tenantId: 't1' },
    body,
    headers: key === undefined ? {} : { 'Idempotency-Key': key },
  });
  return { ...event, requestContext: { ...event.requestContext, requestId } };
};

describe('the Idempotency-Key middleware', () => {
  it('answers the first result again, with its status, body and headers and the replay header, running the handler once', async () => {
    // Arrange
    const store = new MemoryStore();
    const impl = vi.fn(async () => ({
      status: 201,
      body: { id: randomUUID() },
      headers: { location: '/w/1' },
    }));
    const handler = widgets(store, impl);

    // Act
    const first = await handler(post({ name: 'a' }, 'k1', 'req-1'), lambdaContext);
    const again = await handler(post({ name: 'a' }, 'k1', 'req-2'), lambdaContext);

    // Assert
    expect(impl).toHaveBeenCalledOnce();
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers).toMatchObject({
      location: '/w/1',
      [REPLAYED_HEADER]: 'true',
      'x-request-id': 'req-2',
    });
    expect(first.headers?.[REPLAYED_HEADER]).toBeUndefined();
  });

  it('a malformed key is a 400 naming the header, and the store is never asked', async () => {
    const store = new MemoryStore();
    const impl = vi.fn();
    const handler = widgets(store, impl);

    for (const key of ['', 'has space', 'a'.repeat(101), 'ünïcode', 'a,b', 'semi;colon']) {
      const response = await handler(post({ name: 'a' }, key), lambdaContext);
      expect(response.statusCode, JSON.stringify(key)).toBe(400);
      expect(JSON.parse(response.body ?? '{}').error.details).toEqual([
        expect.objectContaining({ location: 'headers', path: 'idempotency-key', code: 'invalid_format' }),
      ]);
    }
    expect(impl).not.toHaveBeenCalled();
    expect(store.calls).toEqual([]);
  });

  it('without a key the route runs every time and nothing is recorded', async () => {
    const store = new MemoryStore();
    const impl = vi.fn(async () => ({ status: 201, body: {} }));
    const handler = widgets(store, impl);

    await handler(post({ name: 'a' }), lambdaContext);
    await handler(post({ name: 'a' }), lambdaContext);

    expect(impl).toHaveBeenCalledTimes(2);
    expect(store.calls).toEqual([]);
  });

  it('the same key with another body is a 422 idempotency_key_mismatch, and the handler does not run', async () => {
    const store = new MemoryStore();
    const impl = vi.fn(async () => ({ status: 201, body: {} }));
    const handler = widgets(store, impl);

    await handler(post({ name: 'a' }, 'k1'), lambdaContext);
    const other = await handler(post({ name: 'b' }, 'k1'), lambdaContext);

    expect(other.statusCode).toBe(422);
    expect(JSON.parse(other.body ?? '{}').error.code).toBe('idempotency_key_mismatch');
    expect(impl).toHaveBeenCalledOnce();
  });

  it('keeps a final 4xx and answers it again; releases a 5xx, so the retry runs again as a re-run', async () => {
    const store = new MemoryStore();
    let calls = 0;
    const attempts: (IdempotentAttempt | null)[] = [];
    const handler = widgets(store, async ({ idempotency }) => {
      attempts.push(idempotency);
      calls += 1;
      if (calls === 1) throw new Error('crashed after the write');
      throw new Conflict('Name taken');
    });

    const crashed = await handler(post({ name: 'a' }, 'k1'), lambdaContext);
    const rerun = await handler(post({ name: 'a' }, 'k1'), lambdaContext);
    const replayed = await handler(post({ name: 'a' }, 'k1'), lambdaContext);

    expect([crashed.statusCode, rerun.statusCode, replayed.statusCode]).toEqual([500, 409, 409]);
    expect(replayed.headers?.[REPLAYED_HEADER]).toBe('true');
    expect(calls).toBe(2);
    expect(store.calls).toEqual(['claim', 'release', 'claim', 'complete 409', 'claim']);
    expect(attempts.map((a) => a && { attempt: a.attempt, rerun: a.rerun })).toEqual([
      { attempt: 1, rerun: false },
      { attempt: 2, rerun: true },
    ]);
    expect(attempts[1]?.token).toBe(attempts[0]?.token);
  });

  it('a request while the key is held waits for it, then answers 409 idempotency_in_progress with Retry-After', async () => {
    const store = new MemoryStore();
    let finish: () => void = () => {};
    const impl = vi.fn(
      () =>
        new Promise<{ status: number; body: unknown }>((resolve) => {
          finish = () => resolve({ status: 201, body: { made: true } });
        }),
    );
    const handler = widgets(store, impl);

    const first = handler(post({ name: 'a' }, 'k1'), lambdaContext);
    await vi.waitFor(() => expect(impl).toHaveBeenCalled());
    const started = Date.now();
    const concurrent = await handler(post({ name: 'a' }, 'k1'), lambdaContext);
    const waited = Date.now() - started;
    finish();
    const firstAnswer = await first;
    const afterwards = await handler(post({ name: 'a' }, 'k1'), lambdaContext);

    expect(concurrent.statusCode).toBe(409);
    expect(JSON.parse(concurrent.body ?? '{}').error).toMatchObject({
      code: 'idempotency_in_progress',
      retryAfterSeconds: 1,
    });
    expect(concurrent.headers?.['retry-after']).toBe('1');
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(2_000);
    expect(afterwards.body).toBe(firstAnswer.body);
    expect(impl).toHaveBeenCalledOnce();
  });

  it.each([
    [200, true],
    [201, true],
    [202, true],
    [400, true],
    [404, true],
    [409, true],
    [422, true],
    [408, false],
    [429, false],
    [500, false],
    [503, false],
  ])('status %i is kept: %s', (status, kept) => {
    expect(keepsAnswer(status)).toBe(kept);
  });
});

describe('what makes two requests the same', () => {
  const event = (body: string, pathParameters = { tenantId: 't1' }) =>
    httpEvent({ method: 'POST', path: '/tenants/t1/widgets', pathParameters, rawBody: body });

  it('ignores key order and spacing in the body, not values, paths or routes', () => {
    const a = requestFingerprint(createWidget, event('{"name":"a","size":1}'));
    expect(requestFingerprint(createWidget, event('{ "size": 1,  "name": "a" }'))).toBe(a);
    expect(requestFingerprint(createWidget, event('{"name":"a","size":2}'))).not.toBe(a);
    expect(requestFingerprint(createWidget, event('{"name":"a","size":1}', { tenantId: 't2' }))).not.toBe(a);
    expect(requestFingerprint({ ...createWidget, path: '/other' }, event('{"name":"a","size":1}'))).not.toBe(
      a,
    );
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('idempotent routes in the route table', () => {
  /** POSTs that change a state rather than create something: answering twice is already safe. */
  const NOT_CREATING = new Set(['acceptInvitation', 'declineInvitation']);
  const idempotent = routeList.filter((route) => route.idempotent);

  it('every POST that creates something takes an Idempotency-Key', () => {
    const posts = routeList.filter(
      (route) => route.method === 'POST' && !NOT_CREATING.has(route.operationId),
    );
    expect(posts.filter((route) => !route.idempotent).map((route) => route.operationId)).toEqual([]);
    expect(idempotent.map((route) => route.operationId).sort()).toEqual(
      [
        'cloneTenant',
        'closeUsageMonth',
        'createBackup',
        'createDatabase',
        'createRole',
        'createTable',
        'enableModule',
        'importRows',
        'insertRow',
        'insertRows',
        'inviteMember',
        'moveDatabase',
        'registerTenant',
        'restoreBackup',
        'startModuleUpgrade',
      ].sort(),
    );
  });

  it.each(idempotent.map((route) => [route.operationId, route] as const))(
    '%s keeps its records in the control database and has a caller',
    (_, route) => {
      expect(route.needs).toContain('controlDb');
      expect(route.access.kind).not.toBe('public');
    },
  );

  it('documents the header, the replay header, 409 with Retry-After and 422 on exactly those routes', () => {
    const document = openApiDocument(routeList);
    for (const route of routeList) {
      const operation = (document.paths[route.path] as Record<string, Record<string, unknown>>)[
        route.method.toLowerCase()
      ] as { parameters: { name: string; in: string }[]; responses: Record<string, Record<string, unknown>> };
      const header = operation.parameters.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
      if (!route.idempotent) {
        expect(header, route.operationId).toBeUndefined();
        continue;
      }
      expect(header, route.operationId).toBeDefined();
      expect(operation.responses[409]?.headers, route.operationId).toHaveProperty('Retry-After');
      expect(String(operation.responses[409]?.description)).toContain('idempotency_in_progress');
      expect(String(operation.responses[422]?.description)).toContain('idempotency_key_mismatch');
      const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
      expect(success.length).toBeGreaterThan(0);
      for (const [, response] of success) expect(response.headers).toHaveProperty('Idempotent-Replayed');
    }
  });
});

describe('leases, parts and derived ids', () => {
  it('a lease outlives the function and any Data API statement it sent', () => {
    expect(IDEMPOTENCY_LEASE_SECONDS).toBeGreaterThan(
      DEFAULT_FUNCTION_TIMEOUT_SECONDS + DATA_API_STATEMENT_TIMEOUT_SECONDS,
    );
    expect(DEFAULT_IDEMPOTENCY_SETTINGS.waitMs).toBeLessThan((DEFAULT_FUNCTION_TIMEOUT_SECONDS * 1000) / 4);
    expect(DEFAULT_IDEMPOTENCY_SETTINGS.ttlSeconds).toBe(24 * 60 * 60);
  });

  it('splits a body into parts that join back, never between the halves of a surrogate pair', () => {
    // `{"text":"` is 9 characters: the emoji's first half is the last character of the first part.
    const text = `${'x'.repeat(RESPONSE_PART_CHARS - 10)}😀${'"'.repeat(20_000)}${'€'.repeat(10_000)}`;
    const body = JSON.stringify({ text });
    expect(body.charCodeAt(RESPONSE_PART_CHARS - 1)).toBe(0xd83d);
    const parts = responseParts(body);

    expect(parts.join('')).toBe(body);
    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(RESPONSE_PART_CHARS);
      expect(() => encodeURIComponent(part)).not.toThrow();
      // What the Data API answers for the part: a JSON string, under its 64 KB row limit.
      expect(Buffer.byteLength(JSON.stringify(part), 'utf8')).toBeLessThan(64_000);
    }
    expect(responseParts('')).toEqual(['']);
  });

  it('derives ids of the usual shapes, the same for one token and different for two', () => {
    const token = randomUUID();
    expect(derivedRoleId(token)).toMatch(ROLE_ID_PATTERN);
    expect(derivedDatabaseId(token)).toMatch(DATABASE_ID_PATTERN);
    expect(derivedUpgradeId(token)).toMatch(UPGRADE_ID_PATTERN);
    expect(rowIdSchema.safeParse(derivedRowId(token)).success).toBe(true);
    expect(derivedRowId(token)).toBe(derivedRowId(token));
    expect(derivedRoleId(randomUUID())).not.toBe(derivedRoleId(token));
  });
});
