import * as z from 'zod';
import type { RouteSpec } from '#shared/routes/types';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  // Schemas with refinements zod cannot express (z.custom) become `{}` rather than failing the document.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

function parametersOf(route: RouteSpec, location: 'path' | 'query'): JsonSchema[] {
  const schema = location === 'path' ? route.request.params : route.request.query;
  const declared = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  if (!schema) {
    return location === 'path'
      ? declared.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }))
      : [];
  }
  const json = toSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

/** The OpenAPI 3.1 document, generated from the route table and its zod schemas. */
export function openApiDocument(routes: readonly RouteSpec[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: route.tags,
      parameters: [...parametersOf(route, 'path'), ...parametersOf(route, 'query')],
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, response]) => [
          status,
          {
            description: response.description,
            ...(response.schema
              ? { content: { 'application/json': { schema: toSchema(response.schema, 'output') } } }
              : {}),
          },
        ]),
      ),
      security: route.access.kind === 'public' ? [] : [{ cognito: [] }],
      'x-tenantry-access':
        route.access.kind === 'tenant'
          ? { kind: 'tenant', permission: route.access.permission }
          : route.access.kind === 'platform'
            ? { kind: 'platform', groups: route.access.groups }
            : { kind: route.access.kind },
    };
    if (route.request.body) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: toSchema(route.request.body, 'input') } },
      };
    }
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { ...info, description: 'Tenantry: multi-tenant SaaS platform API. Bearer: a Cognito ID token.' },
    components: {
      securitySchemes: { cognito: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  };
}
