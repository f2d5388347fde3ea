import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';
import { effectiveNeeds, NEED_ENVIRONMENT } from '#infra/constructs/needs';
import { ApiStack } from '#infra/stacks/api-stack';
import { stagePolicy } from '#infra/stage-policy';
import { DATA_API_STATEMENT_TIMEOUT_SECONDS, DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '#shared/config';
import { IDEMPOTENCY_LEASE_SECONDS } from '#shared/control/idempotency-records';
import { API_CORS } from '#shared/http/cors';
import { routeFunctionNeeds } from '#shared/routes/function-needs';
import { routeList } from '#shared/routes/table';

/** What every TenantryFunction has, whatever it needs. */
const BASE_VARIABLES = new Set(['NODE_OPTIONS', 'TENANTRY_STAGE', 'LOG_LEVEL', 'POWERTOOLS_SERVICE_NAME']);

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

function resourcesOfType(template: Template, type: string): [string, CfnResource][] {
  return Object.entries(template.findResources(type)) as [string, CfnResource][];
}

describe('ApiStack and the API functions stacks', () => {
  let template: Template;
  let events: Template;
  /** The route functions, from every API functions stack. */
  let functions: [string, CfnResource][];

  beforeAll(() => {
    // Arrange: templates only, so no esbuild bundling
    const built = buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false });
    template = Template.fromStack(built.api);
    events = Template.fromStack(built.events);
    functions = built.apiFunctions.flatMap((stack) =>
      resourcesOfType(Template.fromStack(stack), 'AWS::Lambda::Function'),
    );
  });

  it("allows the console's request headers and exposes the answer headers it reads (CORS, shared with the local gateway)", () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowHeaders: [...API_CORS.allowHeaders],
        ExposeHeaders: [...API_CORS.exposeHeaders],
        MaxAge: API_CORS.maxAgeSeconds,
        AllowMethods: ['*'],
      }),
    });
    expect(API_CORS.allowHeaders).toEqual(
      expect.arrayContaining(['authorization', 'idempotency-key', 'prefer']),
    );
  });

  it('has one route per route table entry, keyed by method and path', () => {
    // Act
    const routeKeys = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(
      ([, route]) => route.Properties.RouteKey,
    );

    // Assert
    expect(routeKeys).toHaveLength(routeList.length);
    expect(new Set(routeKeys)).toEqual(new Set(routeList.map((route) => `${route.method} ${route.path}`)));
  });

  it('puts the Cognito JWT authorizer on every non-public route and no authorizer on public ones', () => {
    // Arrange
    const authorizers = resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer');
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0] as [string, CfnResource];
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
    });
    const routes = new Map(
      resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, route]) => [
        route.Properties.RouteKey,
        route.Properties,
      ]),
    );

    // Act / Assert
    for (const spec of routeList) {
      const route = routes.get(`${spec.method} ${spec.path}`);
      if (spec.access.kind === 'public') {
        expect(route?.AuthorizationType, spec.operationId).toBe('NONE');
        expect(route?.AuthorizerId, spec.operationId).toBeUndefined();
      } else {
        expect(route?.AuthorizationType, spec.operationId).toBe('JWT');
        expect(route?.AuthorizerId, spec.operationId).toEqual({ Ref: authorizerId });
      }
    }
  });

  it('checks the JWT audience against the app client and the issuer against the user pool', () => {
    const [, authorizer] = resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer')[0] as [
      string,
      CfnResource,
    ];
    const jwt = authorizer.Properties.JwtConfiguration as { Audience: unknown[]; Issuer: unknown };
    expect(jwt.Audience).toHaveLength(1);
    expect(JSON.stringify(jwt.Audience)).toContain('AppClient');
    expect(JSON.stringify(jwt.Issuer)).toContain('cognito-idp');
    expect(JSON.stringify(jwt.Issuer)).toContain('UserPool');
  });

  it('creates one function per distinct handler entry, in the functions stacks and none in the Api stack', () => {
    const handlers = new Set(routeList.map((route) => route.handler));
    expect(functions).toHaveLength(handlers.size);
    expect(new Set(functions.map(([, fn]) => fn.Properties.Description))).toEqual(
      new Set([...handlers].map((handler) => `Tenantry ${handler}`)),
    );
    expect(resourcesOfType(template, 'AWS::Lambda::Function')).toEqual([]);
    expect(resourcesOfType(template, 'AWS::IAM::Role')).toEqual([]);
  });

  it('integrates each handler once, with the function ARN its functions stack exports', () => {
    const integrations = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(new Set(routeList.map((route) => route.handler)).size);
    for (const [id, integration] of integrations) {
      expect(integration.Properties.IntegrationUri, id).toEqual({
        'Fn::ImportValue': expect.stringMatching(
          /^Tenantry-dev-ApiFunctions-[A-Za-z]+:ExportsOutputFnGetAtt/,
        ),
      });
    }
    // One invoke permission per route, each naming the imported function.
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission');
    expect(permissions).toHaveLength(routeList.length);
    for (const [id, permission] of permissions) {
      expect(permission.Properties.FunctionName, id).toHaveProperty('Fn::ImportValue');
    }
  });

  it('gives each route function the variables of its needs and no others; public handlers none', () => {
    const byDescription = new Map(
      functions.map(([, fn]) => [
        String(fn.Properties.Description),
        (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
      ]),
    );
    for (const spec of routeList) {
      const variables = byDescription.get(`Tenantry ${spec.handler}`);
      expect(variables, spec.handler).toBeDefined();
      expect(variables).toMatchObject({ TENANTRY_STAGE: 'dev', NODE_OPTIONS: '--enable-source-maps' });
      // Exactly the variables its routes' needs set (infra/constructs/needs.ts), no others.
      const needs = effectiveNeeds(routeFunctionNeeds().get(spec.handler) ?? []);
      const expected = new Set(needs.flatMap((need) => NEED_ENVIRONMENT[need]));
      const perFunction = Object.keys(variables ?? {}).filter((name) => !BASE_VARIABLES.has(name));
      expect(perFunction.sort(), spec.handler).toEqual([...expected].sort());
      if (routeList.filter((r) => r.handler === spec.handler).every((r) => r.access.kind === 'public')) {
        expect(perFunction, spec.handler).toEqual([]);
      }
    }
  });

  it('logs access and throttles the default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
        Format: Match.anyValue(),
      },
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
  });

  it("alarms, to the operators' topic, on the first telemetry record lost by a route function", () => {
    // Arrange
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').filter(
      ([, alarm]) => alarm.Properties.MetricName === 'TelemetryDeadLetterFailures',
    );
    expect(alarms).toHaveLength(1);
    const [, alarm] = alarms[0] as [string, CfnResource];

    // Assert: the metric emission writes (namespace, name, the functions' service dimension)
    expect(alarm.Properties).toMatchObject({
      Namespace: 'Tenantry',
      Dimensions: [{ Name: 'service', Value: 'tenantry-api' }],
      Statistic: 'Sum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [
        { 'Fn::ImportValue': expect.stringMatching(/^Tenantry-dev-Events:ExportsOutputRefAlarmTopic/) },
      ],
    });
    for (const [id, fn] of functions) {
      const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      if (variables?.TELEMETRY_DLQ_URL) expect(variables.POWERTOOLS_SERVICE_NAME, id).toBe('tenantry-api');
    }
  });

  it('alarms on the first telemetry dead letter and notifies the operators’ alarm topic', () => {
    events.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TelemetryDeadLetterQueue'), 'QueueName'] },
        },
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
    });
  });

  it('runs the route functions outside the VPC', () => {
    expect(functions.length).toBeGreaterThan(0);
    for (const [, fn] of functions) {
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
  });

  it('stops every route function before an idempotency lease ends (a lease outlives the attempt it protects)', () => {
    const timeouts = functions.map(([, fn]) => fn.Properties.Timeout);
    expect(timeouts.length).toBeGreaterThan(0);
    for (const timeout of timeouts) expect(timeout).toBe(DEFAULT_FUNCTION_TIMEOUT_SECONDS);
    expect(IDEMPOTENCY_LEASE_SECONDS).toBeGreaterThan(
      DEFAULT_FUNCTION_TIMEOUT_SECONDS + DATA_API_STATEMENT_TIMEOUT_SECONDS,
    );
  });

  it('refuses to route to a handler that no functions stack holds', () => {
    // Arrange: an API whose function map lacks the one route's handler
    const app = new App({ autoSynth: false });
    const identity = new Stack(app, 'Identity');
    const userPool = new cognito.UserPool(identity, 'Pool');
    const health = routeList.find((route) => route.handler === 'platform/get-health');

    // Act / Assert
    expect(
      () =>
        new ApiStack(app, 'Api', {
          stage: 'dev',
          policy: stagePolicy('dev'),
          userPool,
          userPoolClient: userPool.addClient('Client'),
          functions: new Map(),
          alarmTopic: new sns.Topic(identity, 'Alarms'),
          routes: health ? [health] : [],
        }),
    ).toThrow('No function for platform/get-health (route GET /health)');
  });
});
