import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { FILTER_OPERATORS } from '#shared/data/row-query';
import { ALL_PERMISSIONS, PLATFORM_GROUPS } from '#shared/domain/permissions';
import { openApiDocument, TAG_DESCRIPTIONS } from '#shared/routes/openapi';
import { routeList } from '#shared/routes/table';
import { HTTP_METHODS } from '#shared/routes/types';

describe('route table', () => {
  it.each(routeList.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s declares who may call it',
    (_, route) => {
      const access = route.access as { kind: string; permission?: string; groups?: string[] };
      expect(['public', 'signed-in', 'tenant', 'platform']).toContain(access.kind);
      if (access.kind === 'tenant') {
        expect(ALL_PERMISSIONS).toContain(access.permission);
        expect(route.path).toMatch(/^\/tenants\/\{tenantId\}/);
      }
      if (access.kind === 'platform') {
        expect(access.groups?.length).toBeGreaterThan(0);
        for (const group of access.groups ?? []) expect(PLATFORM_GROUPS).toContain(group);
      }
    },
  );

  it('only /health and /openapi.json are public', () => {
    const publicRoutes = routeList.filter((r) => r.access.kind === 'public').map((r) => r.path);
    expect(publicRoutes.sort()).toEqual(['/health', '/openapi.json']);
  });

  it('has unique operation ids and unique method + path pairs', () => {
    const ids = routeList.map((r) => r.operationId);
    const keys = routeList.map((r) => `${r.method} ${r.path}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('points every route at an existing handler module under functions/', () => {
    for (const route of routeList) {
      expect(HTTP_METHODS).toContain(route.method);
      expect(route.handler).toMatch(/^[a-z-]+\/[a-z]+(?:-[a-z]+)+$/);
      expect(existsSync(new URL(`../../functions/${route.handler}.ts`, import.meta.url)), route.handler).toBe(
        true,
      );
    }
  });

  it('validates every path parameter a route declares in its path', () => {
    for (const route of routeList) {
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      if (names.length === 0) continue;
      const shape = (route.request.params as { shape?: Record<string, unknown> } | undefined)?.shape ?? {};
      expect(Object.keys(shape).sort(), route.operationId).toEqual(names.sort());
    }
  });

  it('refuses, in every path parameter, values that are not ids and could name another route', () => {
    // API Gateway URL-decodes path parameters before the function sees them, so `%2e%2e` or
    // `a%2Fb` may arrive as `..` or `a/b`: the handler must refuse them itself, whatever the gateway did.
    const notIds = ['.', '..', '../roles', 'a/b', 'a\\b', '', ' ', '%2e%2e', 'x\u0000'];
    let checked = 0;
    for (const route of routeList) {
      const shape = (route.request.params as { shape?: Record<string, z.ZodType> } | undefined)?.shape ?? {};
      for (const [name, schema] of Object.entries(shape)) {
        for (const value of notIds) {
          expect(
            schema.safeParse(value).success,
            `${route.operationId} ${name}=${JSON.stringify(value)}`,
          ).toBe(false);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe('OpenAPI document', () => {
  const document = openApiDocument(routeList, { title: 'Tenantry API', version: 'test' });

  it('is OpenAPI 3.1 with one operation per route', () => {
    expect(document.openapi).toBe('3.1.0');
    const operations = Object.values(document.paths).flatMap((ops) => Object.keys(ops));
    expect(operations).toHaveLength(routeList.length);
  });

  it('marks public routes without security and others with the bearer scheme', () => {
    const health = document.paths['/health']?.get as { security: unknown[] };
    const me = document.paths['/me']?.get as { security: unknown[]; responses: Record<string, unknown> };
    expect(health.security).toEqual([]);
    expect(me.security).toEqual([{ cognito: [] }]);
    expect(Object.keys(me.responses)).toContain('401');
  });

  it('carries JSON Schemas generated from the zod response schemas', () => {
    const me = document.paths['/me']?.get as {
      responses: {
        200: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } };
      };
    };
    expect(Object.keys(me.responses[200].content['application/json'].schema.properties)).toEqual(
      expect.arrayContaining(['userId', 'email', 'memberships', 'activeTenantId']),
    );
  });

  interface Media {
    schema?: Record<string, unknown>;
  }
  interface Operation {
    operationId: string;
    parameters: { name: string; in: string; style?: string; explode?: boolean; description?: string }[];
    responses: Record<string, { description: string; content?: Record<string, Media> }>;
  }
  const operations = Object.values(document.paths).flatMap((ops) => Object.values(ops) as Operation[]);
  const operation = (id: string) => operations.find((op) => op.operationId === id) as Operation;
  const refs = (schema: Record<string, unknown> | undefined) =>
    ((schema?.oneOf as { $ref: string }[] | undefined) ?? [schema]).map((s) => s?.$ref);

  it('documents the rows filter as one deepObject parameter keyed by column, then by operator', () => {
    const listRows = operation('listRows');
    const filter = listRows.parameters.find((p) => p.name === 'filter') as Operation['parameters'][number] & {
      schema: {
        additionalProperties: { properties: Record<string, unknown>; additionalProperties: boolean };
      };
    };
    expect(filter).toMatchObject({ in: 'query', style: 'deepObject', explode: true });
    expect(Object.keys(filter.schema.additionalProperties.properties)).toEqual([...FILTER_OPERATORS]);
    expect(filter.schema.additionalProperties.additionalProperties).toBe(false);
    for (const op of FILTER_OPERATORS) expect(filter.description).toContain(op);
    for (const name of ['sort', 'cursor', 'limit']) {
      const parameter = listRows.parameters.find((p) => p.name === name);
      expect(parameter?.in, name).toBe('query');
    }
    expect(listRows.parameters.find((p) => p.name === 'sort')?.description).toMatch(/-column for descending/);
    expect(listRows.parameters.find((p) => p.name === 'cursor')?.description).toMatch(/nextCursor/);
  });

  it.each(['exportUsage', 'getUsageExport'])('%s answers both text/csv and application/json', (id) => {
    const content = operation(id).responses[200]?.content ?? {};
    expect(Object.keys(content).sort()).toEqual(['application/json', 'text/csv']);
    expect(content['text/csv']?.schema).toMatchObject({ type: 'string' });
    expect(content['application/json']?.schema).toMatchObject({ type: 'object' });
    expect(operation(id).parameters.find((p) => p.name === 'format')?.in).toBe('query');
  });

  it('has a server relative to where it is served, a licence and a description for every tag', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(document.info.license).toEqual({ name: 'Apache-2.0', identifier: 'Apache-2.0' });
    const used = [...new Set(routeList.flatMap((r) => r.tags))];
    expect(document.tags.map((t) => t.name)).toEqual(used);
    expect(used.filter((tag) => !TAG_DESCRIPTIONS[tag])).toEqual([]);
  });

  it('gives every error response of every operation a JSON schema, and every operation a 500', () => {
    let checked = 0;
    for (const op of operations) {
      expect(Object.keys(op.responses), op.operationId).toContain('500');
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        expect(response.content?.['application/json']?.schema, `${op.operationId} ${status}`).toBeDefined();
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(routeList.length * 2);
  });

  it("documents API Gateway's own body beside ours where the gateway answers (401, 429, 500)", () => {
    expect(Object.keys(document.components.schemas)).toEqual(['Error', 'GatewayError']);
    for (const op of operations) {
      const schemaOf = (status: number) => op.responses[status]?.content?.['application/json']?.schema;
      expect(refs(schemaOf(500))).toEqual([
        '#/components/schemas/Error',
        '#/components/schemas/GatewayError',
      ]);
      // A tenant route's own 429 (its tenant's rate or month) beside API Gateway's throttling.
      expect(refs(schemaOf(429))).toEqual(
        routeList.find((route) => route.operationId === op.operationId)?.access.kind === 'tenant'
          ? ['#/components/schemas/Error', '#/components/schemas/GatewayError']
          : ['#/components/schemas/GatewayError'],
      );
      if (op.responses[401]) expect(refs(schemaOf(401))).toContain('#/components/schemas/GatewayError');
    }
    expect(operation('getHealth').responses[401]).toBeUndefined();
    expect(operation('getMe').responses[401]).toBeDefined();
  });

  it('documents 503 database_resuming with Retry-After on every route behind the authorizer, and only there', () => {
    type Resuming = { description: string; headers?: Record<string, { schema: { type: string } }> };
    for (const route of routeList) {
      const resuming = operation(route.operationId).responses[503] as Resuming | undefined;
      if (route.access.kind === 'public') {
        expect(resuming, route.operationId).toBeUndefined();
        continue;
      }
      expect(resuming?.description, route.operationId).toContain('database_resuming');
      expect(resuming?.headers?.['Retry-After']?.schema.type, route.operationId).toBe('integer');
    }
    // A route with a 503 of its own keeps saying it too.
    expect(operation('setTenantStatus').responses[503]?.description).toMatch(/event bus.*database_resuming/s);
  });
});
