import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { MAX_BATCH_BYTES } from '#shared/data/row-batch';
import { RequestRecorded } from '#shared/events/events';
import { httpHandler } from '#shared/http/handler';
import { MAX_BODY_BYTES, stateOf } from '#shared/http/middleware';
import { recordsOf } from '#shared/http/request-records';
import type { TenantAccessPolicy } from '#shared/ports/tenant-access';
import { openApiDocument } from '#shared/routes/openapi';
import { routeList, routes } from '#shared/routes/table';
import { defineRoute } from '#shared/routes/types';
import { DEFAULT_GRANT_PLAN } from '../support/grants.ts';
import { httpEvent, lambdaContext } from '../support/http-events.ts';

/**
 * What the route table gives routes that take many rows: their own body cap and JSON bound, text
 * bodies of declared media types, and an audit record that summarises the body.
 */

const allowAll: TenantAccessPolicy = {
  authorize: async (_caller, tenantId) => ({
    tenantId,
    role: 'owner',
    permissions: new Set(['rows:write']),
    suspended: false,
    ...DEFAULT_GRANT_PLAN,
  }),
};

const params = z.object({ tenantId: z.string() });
const bigBatch = defineRoute({
  operationId: 'bigBatch',
  method: 'POST',
  path: '/tenants/{tenantId}/big',
  summary: 'test route',
  tags: ['test'],
  access: { kind: 'tenant', permission: 'rows:write' },
  handler: 'test/big-batch',
  needs: [],
  request: { params, body: z.strictObject({ items: z.array(z.string()) }) },
  bodyLimits: { bytes: 2 * MAX_BODY_BYTES, jsonElements: 30_000 },
  responses: { 201: { description: 'created' } },
});
const upload = defineRoute({
  operationId: 'upload',
  method: 'POST',
  path: '/tenants/{tenantId}/upload',
  summary: 'test route',
  tags: ['test'],
  access: { kind: 'tenant', permission: 'rows:write' },
  handler: 'test/upload',
  needs: [],
  request: { params, body: z.string(), textBody: [{ mediaType: 'text/csv', description: 'a file' }] },
  responses: { 201: { description: 'created' } },
});

const post = (path: string, rawBody: string, headers: Record<string, string> = {}) =>
  httpEvent({ method: 'POST', path, pathParameters: { tenantId: 't1' }, rawBody, headers });
const errorOf = (response: { body?: string }) => JSON.parse(response.body ?? '{}').error;

describe('routes that take large bodies', () => {
  it('take a body over the default cap up to their own, and answer 413 naming their own limit', async () => {
    const impl = vi.fn(async ({ body }) => ({ status: 201, body: { count: body.items.length } }));
    const handler = httpHandler(bigBatch, impl, { tenantAccess: () => allowAll });
    const items = (bytes: number) => JSON.stringify({ items: ['x'.repeat(bytes)] });

    const taken = await handler(post('/tenants/t1/big', items(MAX_BODY_BYTES + 10)), lambdaContext);
    const refused = await handler(post('/tenants/t1/big', items(2 * MAX_BODY_BYTES)), lambdaContext);
    const elements = await handler(
      post('/tenants/t1/big', JSON.stringify({ items: Array.from({ length: 30_001 }, () => '') })),
      lambdaContext,
    );

    expect(taken.statusCode).toBe(201);
    expect(refused.statusCode).toBe(413);
    expect(errorOf(refused)).toMatchObject({ code: 'payload_too_large', limitBytes: 2 * MAX_BODY_BYTES });
    expect(errorOf(refused).message).toContain(String(2 * MAX_BODY_BYTES));
    expect(elements.statusCode).toBe(400);
    expect(errorOf(elements).details[0].code).toBe('too_many_elements');
    expect(impl).toHaveBeenCalledOnce();
  });

  it('take a text body of a declared media type as its text, and answer 415 for any other type', async () => {
    const impl = vi.fn(async ({ body }) => ({ status: 201, body: { text: body } }));
    const handler = httpHandler(upload, impl, { tenantAccess: () => allowAll });

    const csv = await handler(
      post('/tenants/t1/upload', '\uFEFFa,b\r\n1,2\r\n', { 'content-type': 'text/csv; charset=utf-8' }),
      lambdaContext,
    );
    const json = await handler(post('/tenants/t1/upload', '"a,b"'), lambdaContext);
    const plain = await handler(
      post('/tenants/t1/upload', 'a,b', { 'content-type': 'text/plain' }),
      lambdaContext,
    );

    expect(csv.statusCode).toBe(201);
    expect(JSON.parse(csv.body ?? '{}')).toEqual({ text: 'a,b\r\n1,2\r\n' });
    expect(json.statusCode).toBe(415);
    expect(plain.statusCode).toBe(415);
    expect(errorOf(plain).message).toContain('text/csv');
  });

  it('record a batch in the audit as its row count and table, never its rows', () => {
    const event = httpEvent({
      method: 'POST',
      path: '/tenants/t_abcdefghijklmnopqrst/databases/d_x/tables/things/rows/batch',
      pathParameters: { tenantId: 't_abcdefghijklmnopqrst' },
    });
    const state = stateOf(event);
    state.params = { tenantId: 't_abcdefghijklmnopqrst', databaseId: 'd_x', table: 'things' };
    state.body = { rows: [{ note: 'secret-value' }, { note: 'secret-value' }] };

    const [audit] = recordsOf(routes.insertRows, event, 201);
    const imported = httpEvent({ method: 'POST', pathParameters: { tenantId: 't_abcdefghijklmnopqrst' } });
    Object.assign(stateOf(imported), {
      params: state.params,
      query: { format: 'csv' },
      body: 'note\r\nsecret\r\n"x\r\ny"\r\n',
    });
    const [importAudit] = recordsOf(routes.importRows, imported, 201);

    expect(audit?.detailType).toBe(RequestRecorded.detailType);
    expect((audit?.detail as { audit?: { details?: unknown } } | undefined)?.audit?.details).toMatchObject({
      body: { rows: 2, table: 'things' },
    });
    expect(JSON.stringify(audit)).not.toContain('secret-value');
    expect(
      (importAudit?.detail as { audit?: { details?: unknown } } | undefined)?.audit?.details,
    ).toMatchObject({
      body: { rows: 2, table: 'things', format: 'csv' },
    });
  });

  it('are declared with their limits and media types in the route table and the OpenAPI document', () => {
    expect(routes.insertRows.bodyLimits.bytes).toBe(MAX_BATCH_BYTES);
    expect(routes.importRows.bodyLimits.bytes).toBe(MAX_BATCH_BYTES);
    const document = openApiDocument(routeList) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const rows = '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows';
    const importBody = document.paths[`${rows}/import`]?.post?.requestBody as { content: object };
    expect(Object.keys(importBody.content).sort()).toEqual(['application/x-ndjson', 'text/csv']);
    const responses = (document.paths[`${rows}/export`]?.get?.responses ?? {}) as Record<
      string,
      { content: object }
    >;
    const exported = responses[200];
    expect(Object.keys(exported?.content ?? {}).sort()).toEqual(['application/x-ndjson', 'text/csv']);
    expect(Object.keys(document.paths[`${rows}/batch`]?.post?.responses ?? {})).toContain('413');
  });
});
