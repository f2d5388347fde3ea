import 'aws-sdk-client-mock-vitest/extend';
import { DatabaseResumingException, ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import type { PreTokenGenerationTriggerEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { handler as preTokenGeneration } from '#functions/identity/pre-token-generation';
import { DatabaseResuming } from '#shared/adapters/data-api-sql';
import { awsServices } from '#shared/composition/aws-services';
import type { Composed } from '#shared/composition/handler';
import type { Services } from '#shared/composition/services';
import { logger } from '#shared/core/logger';
import { NotFound } from '#shared/errors';
import { type HttpHandler, httpHandler } from '#shared/http/handler';
import { DATABASE_RESUMING_RETRY_AFTER_SECONDS } from '#shared/http/middleware';
import { CLAIMS_LOOKUP_BUDGET_MS, tenantClaimsForSignIn } from '#shared/identity/pre-token';
import type { ActiveTenantSource } from '#shared/ports/active-tenant';
import type { TenantAccessPolicy } from '#shared/ports/tenant-access';
import { routeList, routes } from '#shared/routes/table';
import { defineRoute, type RouteSpec } from '#shared/routes/types';
import { DEFAULT_GRANT_PLAN } from '../support/grants.ts';
import { httpEvent, lambdaContext, memberClaims } from '../support/http-events.ts';

/**
 * A paused Aurora Serverless v2 cluster, as the API and sign-in meet it: the Data API cancels the
 * request with DatabaseResumingException, the adapter turns it into DatabaseResuming, and then
 * every route answers 503 `database_resuming` with `Retry-After` (never a generic 500), and the
 * pre-token-generation trigger issues the token without tenant claims instead of failing sign-in.
 */

const parse = (response: { body?: string }) => JSON.parse(response.body ?? '{}');

const expectResuming = (response: Awaited<ReturnType<HttpHandler>>, label = '') => {
  expect(response.statusCode, `${label} ${response.body}`).toBe(503);
  expect(response.headers?.['retry-after'], label).toBe(String(DATABASE_RESUMING_RETRY_AFTER_SECONDS));
  expect(parse(response), label).toEqual({
    error: {
      code: 'database_resuming',
      message: expect.stringContaining('retry'),
      requestId: 'req-test',
      retryAfterSeconds: DATABASE_RESUMING_RETRY_AFTER_SECONDS,
    },
  });
};

const readWidget = defineRoute({
  operationId: 'readWidget',
  method: 'GET',
  path: '/tenants/{tenantId}/widgets',
  summary: 'test route',
  tags: ['test'],
  access: { kind: 'tenant', permission: 'rows:read' },
  handler: 'test/read-widget',
  needs: [],
  request: { params: z.object({ tenantId: z.string() }) },
  responses: { 200: { description: 'ok' } },
});

const allowAll: TenantAccessPolicy = {
  authorize: async (_caller, tenantId) => ({
    tenantId,
    role: 'owner',
    permissions: new Set(['rows:read']),
    suspended: false,
    ...DEFAULT_GRANT_PLAN,
  }),
};
const widgetEvent = () => httpEvent({ path: '/tenants/t1/widgets', pathParameters: { tenantId: 't1' } });

describe('the HTTP error mapping of a resuming database', () => {
  it('answers 503 database_resuming with Retry-After to a handler that throws DatabaseResuming', async () => {
    // Arrange
    const handler = httpHandler(
      readWidget,
      async () => {
        throw new DatabaseResuming({ cause: new Error('DatabaseResumingException: select * from secrets') });
      },
      { tenantAccess: () => allowAll, telemetry: () => null },
    );

    // Act
    const response = await handler(widgetEvent(), lambdaContext);

    // Assert
    expectResuming(response);
    expect(response.body).not.toContain('secrets');
  });

  it('answers the same when the access check meets the resuming control database, before any handler runs', async () => {
    const impl = vi.fn();
    const resumingPolicy: TenantAccessPolicy = {
      authorize: async () => {
        throw new DatabaseResuming();
      },
    };
    const handler = httpHandler(readWidget, impl, {
      tenantAccess: () => resumingPolicy,
      telemetry: () => null,
    });

    expectResuming(await handler(widgetEvent(), lambdaContext));
    expect(impl).not.toHaveBeenCalled();
  });

  it('leaves domain errors and other failures as they were (404, generic 500 without Retry-After)', async () => {
    const notFound = httpHandler(
      readWidget,
      async () => {
        throw new NotFound('Widget not found');
      },
      { tenantAccess: () => allowAll, telemetry: () => null },
    );
    const broken = httpHandler(
      readWidget,
      async () => {
        throw new Error('connection refused');
      },
      { tenantAccess: () => allowAll, telemetry: () => null },
    );

    const missing = await notFound(widgetEvent(), lambdaContext);
    const failed = await broken(widgetEvent(), lambdaContext);

    expect(missing.statusCode).toBe(404);
    expect(failed.statusCode).toBe(500);
    expect(parse(failed).error.code).toBe('internal_error');
    expect(failed.headers?.['retry-after']).toBeUndefined();
  });
});

describe('a paused cluster behind the AWS composition (RDSDataClient mocked)', () => {
  const rds = mockClient(RDSDataClient);
  const resuming = () =>
    new DatabaseResumingException({
      message: 'Database is resuming after being auto-paused. Please wait a few seconds and try again.',
      $metadata: { httpStatusCode: 400 },
    });

  // Exactly what a Lambda function builds from its environment: the Data API adapter on an
  // RDSDataClient, the access policy and the repositories on top of it.
  let services: Services;
  beforeAll(() => {
    services = awsServices({
      TENANTRY_STAGE: 'test',
      CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:tenantry',
      CONTROL_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenantry/control-app-AbCdEf',
      TENANT_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:role/TenantAccessRole',
    });
  });
  beforeEach(() => {
    rds.reset();
    rds.onAnyCommand().rejects(resuming());
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(() => {
    rds.restore();
  });

  const tenantId = 't_aaaaaaaaaaaaaaaaaaaa';
  const pathFor = (route: RouteSpec) =>
    Object.fromEntries(
      [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name, name === 'tenantId' ? tenantId : 'x']),
    ) as Record<string, string>;
  const eventFor = (route: RouteSpec, claims: Record<string, string | string[]> = memberClaims()) =>
    httpEvent({
      method: route.method,
      path: route.path,
      pathParameters: pathFor(route),
      claims,
      ...(route.request.body ? { body: {} } : {}),
    });
  // As the local gateway loads them: the route's `functions/` entry, imported by path.
  const load = async (route: RouteSpec) => {
    const file = new URL(`../../functions/${route.handler}.ts`, import.meta.url).href;
    const { handler } = (await import(/* @vite-ignore */ file)) as { handler: Composed<HttpHandler> };
    return handler.with(services);
  };

  const tenantRoutes = routeList.filter((route) => route.access.kind === 'tenant');

  it('has tenant routes to try', () => {
    expect(tenantRoutes.length).toBeGreaterThan(30);
  });

  it.each(tenantRoutes.map((route) => [route.operationId, route] as const))(
    '%s answers 503 database_resuming, not 500 (generated from the route table)',
    async (_, route) => {
      const response = await (await load(route))(eventFor(route), lambdaContext);

      expectResuming(response, route.operationId);
      expect(rds).toHaveReceivedCommand(ExecuteStatementCommand);
    },
  );

  it('so do a signed-in route (GET /me) and a platform route (GET /tenants)', async () => {
    const me = await (await load(routes.getMe))(eventFor(routes.getMe), lambdaContext);
    const tenants = await (await load(routes.listTenants))(
      eventFor(routes.listTenants, { ...memberClaims(), 'cognito:groups': ['platform-admin'] }),
      lambdaContext,
    );

    expectResuming(me, 'getMe');
    expectResuming(tenants, 'listTenants');
  });

  it('sign-in during the pause: the trigger issues the token without tenant claims and logs a warning', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const event = {
      version: '1',
      callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'client-id' },
      region: 'eu-west-1',
      userPoolId: 'eu-west-1_abc',
      triggerSource: 'TokenGeneration_Authentication',
      userName: 'alice@example.com',
      request: {
        userAttributes: { sub: 'user-1', email: 'alice@example.com' },
        groupConfiguration: {} as never,
      },
      response: { claimsOverrideDetails: {} as never },
    } as PreTokenGenerationTriggerEvent;

    const result = await preTokenGeneration.with(services)(event);

    expect(rds).toHaveReceivedCommand(ExecuteStatementCommand);
    expect(result.response).toEqual({ claimsOverrideDetails: { claimsToAddOrOverride: {} } });
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('without tenant claims'),
      expect.objectContaining({ userId: 'user-1' }),
    );
  });
});

describe("the tenant claims of a sign-in, within the trigger's budget", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
  const source = (activeTenantOf: ActiveTenantSource['activeTenantOf']): ActiveTenantSource => ({
    activeTenantOf,
  });

  it('are the active tenant and role when the control database answers', async () => {
    const claims = { tenantId: 't_aaaaaaaaaaaaaaaaaaaa', role: 'owner' };
    await expect(
      tenantClaimsForSignIn(
        source(async () => claims),
        'user-1',
      ),
    ).resolves.toEqual(claims);
  });

  it('are none, with a warning, when the lookup outlasts the budget (Cognito allows the trigger 5 s)', async () => {
    // Arrange: a lookup that never answers, and a clock the test moves.
    vi.useFakeTimers();
    const warn = vi.spyOn(logger, 'warn');
    const pending = tenantClaimsForSignIn(
      source(() => new Promise(() => {})),
      'user-2',
    );

    // Act
    await vi.advanceTimersByTimeAsync(CLAIMS_LOOKUP_BUDGET_MS);

    // Assert
    await expect(pending).resolves.toBeNull();
    expect(CLAIMS_LOOKUP_BUDGET_MS).toBeLessThan(5_000);
    expect(warn).toHaveBeenCalledWith(
      'token issued without tenant claims',
      expect.objectContaining({ userId: 'user-2', reason: 'timeout' }),
    );
  });

  it('are none when the lookup fails otherwise too, logged as an error (the claims grant nothing)', async () => {
    const error = vi.spyOn(logger, 'error');
    const failing = source(async () => {
      throw new Error('permission denied for table memberships');
    });

    await expect(tenantClaimsForSignIn(failing, 'user-3')).resolves.toBeNull();
    expect(error).toHaveBeenCalledWith(
      'token issued without tenant claims',
      expect.objectContaining({ userId: 'user-3', reason: 'error' }),
    );
  });
});
