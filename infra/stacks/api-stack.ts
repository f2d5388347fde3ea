import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { API_SERVICE_NAME, constructIdFor } from '#infra/stacks/api-functions-stack';
import type { StagePolicy } from '#infra/stage-policy';
import { API_CORS } from '#shared/http/cors';
import { TELEMETRY_METRICS_NAMESPACE, type TelemetryFailureMetric } from '#shared/ports/telemetry';
import { routeList } from '#shared/routes/table';
import type { RouteSpec } from '#shared/routes/types';

export interface ApiThrottle {
  /** Steady-state requests per second across the stage. */
  readonly rateLimit: number;
  /** Burst capacity. */
  readonly burstLimit: number;
}

export interface ApiStackProps extends StackProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
  /**
   * The route functions by handler entry, from the API functions stacks
   * (infra/stacks/api-functions-stack.ts): every handler of `routes` must have one.
   */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  /** Where the lost-telemetry alarm notifies: the operators' alarm topic. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Routes to serve.
   * @default routeList, the shared route table
   */
  readonly routes?: readonly RouteSpec[];
  /**
   * Default throttling of the stage.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttle?: ApiThrottle;
  /**
   * Origins allowed by CORS. Tokens travel in the Authorization header, never in cookies.
   * @default ['*']
   */
  readonly corsAllowOrigins?: string[];
}

/**
 * The HTTP API: every route of the route table, each behind the Cognito JWT authorizer unless
 * the table says it is public, integrated with its handler's function. The functions themselves
 * live in the API functions stacks (one per route group, infra/stacks/api-functions-stack.ts);
 * what stays here is three resources per route (route, integration, invoke permission) and a
 * constant few, so this stack holds about 130 routes under the test's headroom of 400
 * (test/infra/stack-quotas.test.ts).
 */
export class ApiStack extends Stack {
  readonly httpApi: apigwv2.HttpApi;
  readonly stageName = '$default';

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const routes = props.routes ?? routeList;

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `tenantry-${props.stage}`,
      description: `Tenantry ${props.stage} HTTP API`,
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: props.corsAllowOrigins ?? ['*'],
        // One list for AWS and the local gateway (shared/http/cors.ts): the console's requests.
        allowHeaders: [...API_CORS.allowHeaders],
        exposeHeaders: [...API_CORS.exposeHeaders],
        maxAge: Duration.seconds(API_CORS.maxAgeSeconds),
        allowMethods: [apigwv2.CorsHttpMethod.ANY],
      },
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.policy.logRetention,
      removalPolicy: props.policy.removalPolicy,
    });
    const throttle = props.throttle ?? { rateLimit: 100, burstLimit: 200 };
    new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: this.stageName,
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    const authorizer = new HttpUserPoolAuthorizer('CognitoAuthorizer', props.userPool, {
      authorizerName: `tenantry-${props.stage}-cognito`,
      userPoolClients: [props.userPoolClient],
      identitySource: ['$request.header.Authorization'],
    });
    const noAuthorizer = new apigwv2.HttpNoneAuthorizer();

    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const route of routes) {
      let integration = integrations.get(route.handler);
      if (!integration) {
        const fn = props.functions.get(route.handler);
        if (!fn) throw new Error(`No function for ${route.handler} (route ${route.method} ${route.path})`);
        integration = new HttpLambdaIntegration(`${constructIdFor(route.handler)}Integration`, fn);
        integrations.set(route.handler, integration);
      }
      this.httpApi.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration,
        authorizer: route.access.kind === 'public' ? noAuthorizer : authorizer,
      });
    }

    this.alarmOnLostTelemetry(props);

    new CfnOutput(this, 'ApiUrl', {
      value: this.httpApi.apiEndpoint,
      description: 'Base URL of the HTTP API',
    });
  }

  /**
   * Records neither the bus nor the dead-letter queue took exist only in the function's logs:
   * the first one alarms, as the event consumers' dead letters do.
   */
  private alarmOnLostTelemetry(props: ApiStackProps): void {
    const lost: TelemetryFailureMetric = 'TelemetryDeadLetterFailures';
    const alarm = new cloudwatch.Alarm(this, 'TelemetryLostAlarm', {
      alarmDescription: `Tenantry ${props.stage}: audit, usage or metric records were lost (dead letter failed; they are in the function logs)`,
      metric: new cloudwatch.Metric({
        namespace: TELEMETRY_METRICS_NAMESPACE,
        metricName: lost,
        dimensionsMap: { service: API_SERVICE_NAME },
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.SUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
  }
}
