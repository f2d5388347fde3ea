import * as z from 'zod';
import { errorBodySchema, healthSchema, meSchema } from '#shared/routes/schemas';
import { defineRoute, type RouteSpec } from '#shared/routes/types';

const unauthenticated = { 401: { description: 'No valid token', schema: errorBodySchema } } as const;

/**
 * The route table: the one source for API Gateway routes (CDK), the local gateway and the
 * OpenAPI document. Adding a route here is all it takes to deploy and serve it.
 */
export const routes = {
  getHealth: defineRoute({
    operationId: 'getHealth',
    method: 'GET',
    path: '/health',
    summary: 'Liveness',
    tags: ['platform'],
    access: { kind: 'public' },
    handler: 'platform/get-health',
    request: {},
    responses: { 200: { description: 'Alive', schema: healthSchema } },
  }),
  getOpenApi: defineRoute({
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    summary: 'The OpenAPI 3.1 document generated from the route table',
    tags: ['platform'],
    access: { kind: 'public' },
    handler: 'platform/get-openapi',
    request: {},
    responses: { 200: { description: 'OpenAPI document', schema: z.record(z.string(), z.unknown()) } },
  }),
  getMe: defineRoute({
    operationId: 'getMe',
    method: 'GET',
    path: '/me',
    summary: 'The caller: profile, memberships and active tenant',
    tags: ['identity'],
    access: { kind: 'signed-in' },
    handler: 'me/get-me',
    request: {},
    responses: { 200: { description: 'The caller', schema: meSchema }, ...unauthenticated },
  }),
} as const satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof routes;
export const routeList: readonly RouteSpec[] = Object.values(routes);
