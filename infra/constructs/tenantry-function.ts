import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, Stack, Tags } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_ENTRY_TAG } from '#infra/constructs/function-tags';
import type { StagePolicy } from '#infra/stage-policy';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '#shared/config';
import type { Need } from '#shared/domain/needs';

/** The repository root: bundling resolves `#shared/*` through its package.json `imports`. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The Lambda runtime of every Tenantry function. Node.js 24 is the newest runtime Lambda offers
 * and the one cdk-nag's AwsSolutions-L1 ("latest runtime") accepts.
 */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;
/** Graviton: cheaper per GB-second than x86 and no native modules in our bundles. */
export const FUNCTION_ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * The esbuild settings of every function bundle, shared with the benchmark that measures the
 * bundles (so what is measured is what is deployed).
 */
export const FUNCTION_BUNDLE = {
  /**
   * CommonJS, so that an adapter the function may never use costs nothing at cold start: the
   * composition root `import()`s each adapter on first use, and esbuild keeps such a module's
   * `require` of its (external) SDK client inside the module's lazy initialiser. In an ESM bundle
   * every external `import` is hoisted to the top and every SDK client would load at init.
   */
  format: 'cjs',
  target: 'node24',
  mainFields: ['module', 'main'],
  // The Node.js runtime ships AWS SDK v3; bundling it would add megabytes per function.
  externalModules: ['@aws-sdk/*'],
} as const;

export interface TenantryFunctionProps {
  /** Entry under `functions/` without extension, e.g. `me/get-me` (the route table's `handler`). */
  readonly handler: string;
  /** Deployment stage; sets `TENANTRY_STAGE`. */
  readonly stage: string;
  /** Log retention, log removal and default log level of the stage. */
  readonly policy: StagePolicy;
  /**
   * Extra environment variables. Prefer declaring a need (grantNeeds), which sets the variable
   * and the permission together.
   * @default - none beyond the defaults
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Memory size in MB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Timeout. API Gateway HTTP APIs give up after 30 s, and the Data API cancels after 45 s.
   * @default Duration.seconds(DEFAULT_FUNCTION_TIMEOUT_SECONDS) (29 s)
   */
  readonly timeout?: Duration;
  /**
   * Log level read by the shared logger.
   * @default - the stage policy's
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * `POWERTOOLS_SERVICE_NAME`: groups the function's logs and traces.
   * @default 'tenantry'
   */
  readonly serviceName?: string;
  /**
   * Description shown in the Lambda console.
   * @default - `Tenantry <handler>`
   */
  readonly description?: string;
}

/**
 * The one way Tenantry defines a Lambda function: Node.js 24 on arm64, esbuild bundle (CommonJS,
 * minified, source maps, AWS SDK v3 left to the runtime), its own log group with retention,
 * X-Ray tracing, and its own role that can write only to that log group (no AWS managed policy).
 */
export class TenantryFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The needs granted to it (grantNeeds in infra/constructs/needs.ts), in the vocabulary's order. */
  readonly needs: Need[] = [];

  constructor(scope: Construct, id: string, props: TenantryFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.policy.logRetention,
      removalPolicy: props.policy.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Tenantry ${props.handler} (${props.stage})`,
    });
    // Scoped to this function's own log group, instead of AWSLambdaBasicExecutionRole's logs:* on *.
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(repoRoot, 'functions', `${props.handler}.ts`),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(DEFAULT_FUNCTION_TIMEOUT_SECONDS),
      description: props.description ?? `Tenantry ${props.handler}`,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        TENANTRY_STAGE: props.stage,
        LOG_LEVEL: props.logLevel ?? props.policy.logLevel,
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? 'tenantry',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.CJS,
        target: FUNCTION_BUNDLE.target,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: [...FUNCTION_BUNDLE.mainFields],
        externalModules: [...FUNCTION_BUNDLE.externalModules],
        forceDockerBundling: false,
      },
    });
    Tags.of(this.function).add(FUNCTION_ENTRY_TAG, props.handler);
  }

  addEnvironment(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }
}

export type TableAccess = 'read' | 'write' | 'readwrite';

/** Grants access to a DynamoDB table and passes its name in `envName`. */
export function grantTable(
  fn: TenantryFunction,
  table: dynamodb.ITable,
  envName: string,
  mode: TableAccess,
): void {
  if (mode === 'read') table.grantReadData(fn.function);
  else if (mode === 'write') table.grantWriteData(fn.function);
  else table.grantReadWriteData(fn.function);
  fn.addEnvironment(envName, table.tableName);
}

/**
 * PartiQL INSERTs into the table (the records batch writer's BatchExecuteStatement), which the
 * table's own grants do not include: "To insert items using PartiQL for DynamoDB, you must have
 * dynamodb:PartiQLInsert permission on the table or index"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html).
 */
export function grantPartiqlInsert(fn: TenantryFunction, table: dynamodb.ITable): void {
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['dynamodb:PartiQLInsert'], resources: [table.tableArn] }),
  );
}

/**
 * Allows reading the status and history of the named state machine's executions (execution
 * names are per tenant, so the statement ends in `*`; cdk-nag's IAM5 finding is acknowledged).
 */
export function grantReadWorkflowExecutions(fn: TenantryFunction, stateMachineName: string): void {
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadProvisioningExecutions',
      actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
      resources: [
        Stack.of(fn).formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `${stateMachineName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
}
