import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { MAX_JSON_DEPTH, MAX_JSON_ELEMENTS } from '#shared/core/validation';
import { Forbidden, NotFound } from '#shared/errors';
import { httpHandler } from '#shared/http/handler';
import { MAX_BODY_BYTES } from '#shared/http/middleware';
import type { TenantAccessPolicy } from '#shared/ports/tenant-access';
import { defineRoute } from '#shared/routes/types';
import { DEFAULT_GRANT_PLAN } from '../support/grants.ts';
import { httpEvent, lambdaContext, memberClaims } from '../support/http-events.ts';

const createWidget = defineRoute({
  operationId: 'createWidget',
  method: 'POST',
  path: '/tenants/{tenantId}/widgets',
  summary: 'test route',
  tags: ['test'],
  access: { kind: 'tenant', permission: 'rows:write' },
  handler: 'test/create-widget',
  needs: [],
  request: {
    params: z.object({ tenantId: z.string() }),
    body: z.strictObject({ name: z.string().min(1), size: z.number().int().positive() }),
  },
  responses: { 201: { description: 'created' } },
});

const adminOnly = defineRoute({
  operationId: 'adminOnly',
  method: 'GET',
  path: '/admin',
  summary: 'test route',
  tags: ['test'],
  access: { kind: 'platform', groups: ['platform-admin'] },
  handler: 'test/admin-only',
  needs: [],
  request: {},
  responses: { 200: { description: 'ok' } },
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

const widgetEvent = (body: unknown, extra: Parameters<typeof httpEvent>[0] = {}) =>
  httpEvent({
    method: 'POST',
    path: '/tenants/t1/widgets',
    pathParameters: { tenantId: 't1' },
    body,
    ...extra,
  });

const parse = (response: { body?: string }) => JSON.parse(response.body ?? '{}');

describe('HTTP middleware chain', () => {
  it('passes typed, validated input to the handler and answers JSON', async () => {
    // Arrange
    const impl = vi.fn(async ({ body, grant }) => ({
      status: 201,
      body: { echoed: body, tenant: grant.tenantId },
    }));
    const handler = httpHandler(createWidget, impl, { tenantAccess: () => allowAll });

    // Act
    const response = await handler(widgetEvent({ name: 'w', size: 2 }), lambdaContext);

    // Assert
    expect(response.statusCode).toBe(201);
    expect(response.headers?.['content-type']).toMatch(/application\/json/);
    expect(response.headers?.['x-request-id']).toBe('req-test');
    expect(parse(response)).toEqual({ echoed: { name: 'w', size: 2 }, tenant: 't1' });
    expect(impl).toHaveBeenCalledOnce();
  });

  it('answers 400 with every zod issue for a bad body, and never runs the handler', async () => {
    const impl = vi.fn();
    const handler = httpHandler(createWidget, impl, { tenantAccess: () => allowAll });

    const response = await handler(widgetEvent({ name: '', size: -1, extra: true }), lambdaContext);

    expect(response.statusCode).toBe(400);
    const body = parse(response);
    expect(body.error.code).toBe('validation_failed');
    const paths = body.error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['extra', 'name', 'size']);
    expect(body.error.details.every((d: { location: string }) => d.location === 'body')).toBe(true);
    expect(impl).not.toHaveBeenCalled();
  });

  it('answers 400 for malformed JSON and 415 for a non-JSON content type', async () => {
    const handler = httpHandler(createWidget, vi.fn(), { tenantAccess: () => allowAll });

    const malformed = await handler(widgetEvent(undefined, { rawBody: '{"name":' }), lambdaContext);
    const form = await handler(
      widgetEvent(undefined, {
        rawBody: 'name=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      lambdaContext,
    );

    expect(malformed.statusCode).toBe(400);
    expect(parse(malformed).error.details[0].code).toBe('invalid_json');
    expect(form.statusCode).toBe(415);
  });

  it('answers 413 for a body over the limit', async () => {
    const handler = httpHandler(createWidget, vi.fn(), { tenantAccess: () => allowAll });

    const response = await handler(
      widgetEvent(undefined, { rawBody: JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES), size: 1 }) }),
      lambdaContext,
    );

    expect(response.statusCode).toBe(413);
  });

  it('turns an unknown error into a generic 500 without stack, SQL or message', async () => {
    const secret = 'relation "tenant_other_corp"."invoices" does not exist: SELECT * FROM secret_table';
    const handler = httpHandler(
      createWidget,
      async () => {
        throw new Error(secret);
      },
      { tenantAccess: () => allowAll },
    );

    const response = await handler(widgetEvent({ name: 'w', size: 1 }), lambdaContext);

    expect(response.statusCode).toBe(500);
    expect(parse(response)).toEqual({
      error: { code: 'internal_error', message: 'Internal server error', requestId: 'req-test' },
    });
    expect(response.body).not.toMatch(/SELECT|other_corp|at .*\.ts/);
  });

  it('answers 401 when the JWT claims are missing, and never runs the handler', async () => {
    const impl = vi.fn();
    const handler = httpHandler(createWidget, impl, { tenantAccess: () => allowAll });

    const response = await handler(widgetEvent({ name: 'w', size: 1 }, { claims: null }), lambdaContext);

    expect(response.statusCode).toBe(401);
    expect(parse(response).error.code).toBe('unauthenticated');
    expect(impl).not.toHaveBeenCalled();
  });

  it('answers 401 for an access token or claims without a subject', async () => {
    const handler = httpHandler(createWidget, vi.fn(), { tenantAccess: () => allowAll });

    const access = await handler(
      widgetEvent({ name: 'w', size: 1 }, { claims: memberClaims({ token_use: 'access' }) }),
      lambdaContext,
    );
    const noSub = await handler(
      widgetEvent({ name: 'w', size: 1 }, { claims: { email: 'a@b.c', token_use: 'id' } }),
      lambdaContext,
    );

    expect(access.statusCode).toBe(401);
    expect(noSub.statusCode).toBe(401);
  });

  it('maps the access policy decision: foreign tenant 404, missing permission 403', async () => {
    const policy = (error: Error): TenantAccessPolicy => ({
      authorize: async () => {
        throw error;
      },
    });
    const impl = vi.fn();

    const foreign = await httpHandler(createWidget, impl, {
      tenantAccess: () => policy(new NotFound('Tenant not found')),
    })(widgetEvent({ name: 'w', size: 1 }), lambdaContext);
    const denied = await httpHandler(createWidget, impl, {
      tenantAccess: () => policy(new Forbidden('Missing permission rows:write')),
    })(widgetEvent({ name: 'w', size: 1 }), lambdaContext);

    expect(foreign.statusCode).toBe(404);
    expect(denied.statusCode).toBe(403);
    expect(impl).not.toHaveBeenCalled();
  });

  it('denies a tenant route when no access policy is installed', async () => {
    const impl = vi.fn();
    const handler = httpHandler(createWidget, impl, { tenantAccess: () => undefined });

    const response = await handler(widgetEvent({ name: 'w', size: 1 }), lambdaContext);

    expect(response.statusCode).toBe(403);
    expect(impl).not.toHaveBeenCalled();
  });

  it('checks platform groups, in both the array and API Gateway "[a b]" claim formats', async () => {
    const handler = httpHandler(adminOnly, async ({ caller }) => ({
      status: 200,
      body: { groups: caller.groups },
    }));
    const event = (groups: string | string[] | undefined) =>
      httpEvent({
        path: '/admin',
        claims: { ...memberClaims(), ...(groups ? { 'cognito:groups': groups } : {}) },
      });

    const none = await handler(event(undefined), lambdaContext);
    const finance = await handler(event('[finance]'), lambdaContext);
    const admin = await handler(event('[finance platform-admin]'), lambdaContext);
    const adminArray = await handler(event(['platform-admin']), lambdaContext);

    expect(none.statusCode).toBe(403);
    expect(finance.statusCode).toBe(403);
    expect(admin.statusCode).toBe(200);
    expect(parse(admin).groups).toEqual(['finance', 'platform-admin']);
    expect(adminArray.statusCode).toBe(200);
  });
});

describe('NUL characters', () => {
  it('are refused anywhere in a body, with the path named, before the handler runs', async () => {
    const impl = vi.fn();
    const handler = httpHandler(createWidget, impl, { tenantAccess: () => allowAll });

    const response = await handler(widgetEvent({ name: 'a\u0000b', size: 1 }), lambdaContext);

    expect(response.statusCode).toBe(400);
    expect(parse(response).error.details).toEqual([
      { location: 'body', path: 'name', code: 'nul_character', message: 'must not contain NUL characters' },
    ]);
    expect(impl).not.toHaveBeenCalled();
  });
});

describe('JSON bodies bounded before validation walks them', () => {
  const storeDocument = defineRoute({
    operationId: 'storeDocument',
    method: 'POST',
    path: '/tenants/{tenantId}/widgets',
    summary: 'test route',
    tags: ['test'],
    access: { kind: 'tenant', permission: 'rows:write' },
    handler: 'test/store-document',
    needs: [],
    request: { params: z.object({ tenantId: z.string() }), body: z.unknown() },
    responses: { 201: { description: 'stored' } },
  });
  /** `levels` arrays, one inside the other: `[[[]]]` has 3 levels. */
  const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  const send = async (rawBody: string) => {
    const use = vi.fn(async () => ({ status: 201, body: {} }));
    const handler = httpHandler(storeDocument, use, { tenantAccess: () => allowAll });
    const response = await handler(widgetEvent(undefined, { rawBody }), lambdaContext);
    return { response, use };
  };

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1} with a 400 naming the limit`, async () => {
    // Arrange / Act
    const atLimit = await send(nested(MAX_JSON_DEPTH));
    const overLimit = await send(nested(MAX_JSON_DEPTH + 1));
    // Assert
    expect(atLimit.response.statusCode).toBe(201);
    expect(overLimit.response.statusCode).toBe(400);
    expect(parse(overLimit.response).error.details).toEqual([
      expect.objectContaining({ location: 'body', code: 'too_deep', message: expect.stringContaining('64') }),
    ]);
    expect(overLimit.use).not.toHaveBeenCalled();
  });

  it('answers a 400, not a stack overflow, for 5,000 levels in objects and arrays (about 10 KB)', async () => {
    const objects = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    for (const body of [nested(5000), objects, `{"name":${nested(5000)}}`]) {
      const { response, use } = await send(body);
      expect(response.statusCode).toBe(400);
      expect(parse(response).error.details[0].code).toBe('too_deep');
      expect(use).not.toHaveBeenCalled();
    }
  });

  it(`accepts ${MAX_JSON_ELEMENTS} keys and items in all and refuses one more`, async () => {
    const items = (count: number) => JSON.stringify({ list: new Array(count - 1).fill(0) });
    const atLimit = await send(items(MAX_JSON_ELEMENTS));
    const overLimit = await send(items(MAX_JSON_ELEMENTS + 1));
    expect(atLimit.response.statusCode).toBe(201);
    expect(overLimit.response.statusCode).toBe(400);
    expect(parse(overLimit.response).error.details[0].code).toBe('too_many_elements');
  });
});
