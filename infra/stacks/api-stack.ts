import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { DeadLetterQueue } from '#infra/constructs/dead-letter-queue';
import { DEFAULT_TENANT_PLANS, grantNeeds, type NeedResources } from '#infra/constructs/needs';
import { TenantryFunction } from '#infra/constructs/tenantry-function';
import type { StagePolicy } from '#infra/stage-policy';
import type { Need } from '#shared/domain/needs';
import { TELEMETRY_METRICS_NAMESPACE, type TelemetryFailureMetric } from '#shared/ports/telemetry';
import { routeFunctionNeeds } from '#shared/routes/function-needs';
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
  readonly cluster: rds.DatabaseCluster;
  /** The control database's application role secret (`controlDb`). */
  readonly controlAppSecret: secretsmanager.ISecret;
  /** The role `tenantData` functions assume per tenant (Provisioning stack). */
  readonly tenantAccessRole: iam.IRole;
  readonly eventBus: events.IEventBus;
  readonly auditTable: dynamodb.ITable;
  readonly usageTable: dynamodb.ITable;
  /** Each tenant's request rate and API calls of the month (the `rateLimits` need). */
  readonly limitsTable: dynamodb.ITable;
  readonly provisioningWorkflow: sfn.IStateMachine;
  /**
   * The plan catalogue its functions get as `TENANT_PLANS` (JSON; infra/plans-context.ts).
   * @default '{}' - the default catalogue (free, standard, premium; free by default)
   */
  readonly tenantPlans?: string;
  /** Where the telemetry alarms (dead letters, lost records) notify: the operators' alarm topic. */
  readonly alarmTopic: sns.ITopic;
  /**
   * The finance exports bucket, read by the export routes (`EXPORTS_BUCKET_NAME`).
   * @default - the export routes have no archive
   */
  readonly exportsBucket?: s3.IBucket;
  /**
   * The backups key (`backupStore`, with the exports bucket): the backup routes' store.
   * @default - a route that declares backupStore fails to build
   */
  readonly backupsKey?: kms.IKey;
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

/** The route functions' Powertools service name: their logs and the `service` metric dimension. */
export const API_SERVICE_NAME = 'tenantry-api';

/** `me/get-me` -> `MeGetMe`: a stable construct id per handler entry. */
function constructIdFor(handler: string): string {
  return handler
    .split(/[/-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * The HTTP API: every route of the route table, each behind the Cognito JWT authorizer unless
 * the table says it is public, with one Lambda function per handler entry.
 *
 * The functions run outside the VPC: they reach the database through the RDS Data API over
 * HTTPS and every other service through its public endpoint, so a VPC would add NAT or endpoint
 * costs and cold-start latency without narrowing what they can reach (IAM does that).
 */
export class ApiStack extends Stack {
  readonly httpApi: apigwv2.HttpApi;
  readonly stageName = '$default';
  /** Functions by handler entry. */
  readonly functions = new Map<string, TenantryFunction>();
  /**
   * Audit, usage and metric records the handlers could not publish to the bus (after one retry):
   * kept 14 days for a redrive, with an alarm on the first one.
   */
  readonly telemetryDeadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const routes = props.routes ?? routeList;

    this.telemetryDeadLetterQueue = new DeadLetterQueue(this, 'TelemetryDeadLetterQueue', {
      alarmDescription: `Tenantry ${props.stage}: audit, usage or metric records could not be published`,
      alarmTopic: props.alarmTopic,
      removalPolicy: props.policy.removalPolicy,
    });

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `tenantry-${props.stage}`,
      description: `Tenantry ${props.stage} HTTP API`,
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: props.corsAllowOrigins ?? ['*'],
        allowHeaders: ['authorization', 'content-type'],
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

    // Each function gets the union of the needs of the routes it serves, and nothing else.
    const needsByHandler = routeFunctionNeeds(routes);
    const resources: NeedResources = {
      stage: props.stage,
      cluster: props.cluster,
      controlAppSecret: props.controlAppSecret,
      tenantAccessRole: props.tenantAccessRole,
      eventBus: props.eventBus,
      telemetryDeadLetterQueue: this.telemetryDeadLetterQueue,
      auditTable: props.auditTable,
      usageTable: props.usageTable,
      limitsTable: props.limitsTable,
      provisioningWorkflow: props.provisioningWorkflow,
      exportsBucket: props.exportsBucket,
      backupsKey: props.backupsKey,
      userPool: props.userPool,
      tenantPlans: props.tenantPlans ?? DEFAULT_TENANT_PLANS,
    };

    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const route of routes) {
      let integration = integrations.get(route.handler);
      if (!integration) {
        const fn = this.createRouteFunction(
          route.handler,
          needsByHandler.get(route.handler) ?? [],
          resources,
          props,
        );
        integration = new HttpLambdaIntegration(`${constructIdFor(route.handler)}Integration`, fn.function);
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

  private createRouteFunction(
    handler: string,
    needs: readonly Need[],
    resources: NeedResources,
    props: ApiStackProps,
  ): TenantryFunction {
    const fn = new TenantryFunction(this, constructIdFor(handler), {
      handler,
      stage: props.stage,
      policy: props.policy,
      serviceName: API_SERVICE_NAME,
    });
    grantNeeds(fn, needs, resources);
    this.functions.set(handler, fn);
    return fn;
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
