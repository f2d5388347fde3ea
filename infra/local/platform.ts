import { fileURLToPath } from 'node:url';
import { clustersFromContext } from '#infra/clusters-context';
import { tenantPlansFromContext } from '#infra/plans-context';
import type { ClusterSetting } from '#shared/domain/clusters';
import { subscriptions as defaultSubscriptions, type EventSubscription } from '#shared/events/subscriptions';
import { startAwsStandIns } from './aws-stand-ins.ts';
import { prepareStateDir, publishPlatformInfo, Stops, startStorageEngines } from './boot.ts';
import { consoleOrigins, startConsoleServer } from './console-server.ts';
import { EngineError } from './engines/errors.ts';
import { startSts } from './engines/sts.ts';
import type { LocalEventBus } from './event-bus.ts';
import {
  type LocalServices,
  localFunctionConfig,
  localServicesFor,
  platformEnvironment,
} from './function-services.ts';
import { type Authorize, allowAll } from './iam/access.ts';
import { LOCAL_BACKUPS_KEY_ID, localBackupsKeyArn } from './iam/local-names.ts';
import { loadAssembly, platformIam } from './iam/platform-iam.ts';
import { CONTROL_DATABASE, type PlatformInfo, platformInfoFile } from './platform-info.ts';
import { ensureControlDatabase, ensureRecordTables, ensureStageUserPool } from './schema.ts';
import {
  FunctionModules,
  guardDynamo,
  REGION,
  runControlMigrations,
  startApi,
  startCognitoWithTriggers,
  startEventDelivery,
  startProvisioningWorkflows,
} from './wiring.ts';
import type { LocalWorkflowStarter } from './workflows.ts';

/** The repository whose infrastructure and shared sources the templates are synthesized from. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export { CONTROL_DATABASE, type PlatformInfo, platformInfoFile };

export interface PlatformPorts {
  readonly api: number;
  /** The web console (web/dist). */
  readonly console: number;
  readonly postgres: number;
  readonly dynamodb: number;
  readonly cognito: number;
  readonly lambda: number;
  readonly events: number;
  readonly secretsmanager: number;
  readonly dataapi: number;
  readonly sts: number;
}

export const DEFAULT_PORTS: PlatformPorts = {
  api: 3000,
  console: 3001,
  postgres: 5433,
  dynamodb: 8001,
  cognito: 9229,
  lambda: 9001,
  events: 9002,
  secretsmanager: 9003,
  dataapi: 9004,
  sts: 9005,
};

export interface PlatformOptions {
  /** Where every engine keeps its state; survives restarts, wiped by `npm run reset`. */
  readonly stateDir: string;
  readonly ports?: Partial<PlatformPorts>;
  readonly stage?: string;
  /** Overrides the event subscriptions (tests use this to add a failing consumer). */
  readonly subscriptions?: readonly EventSubscription[];
  readonly log?: (line: string) => void;
  /**
   * A cloud assembly (e.g. `cdk.out` of `npm run synth`) whose IAM policies the functions run
   * with. @default - the app synthesized in-process for the stage (cached by its sources)
   */
  readonly assemblyDir?: string;
  /**
   * The plan catalogue and default plan, as JSON (`{"plans": {…}, "defaultPlan": "…"}`), what the
   * CDK context `plans` / `defaultPlan` give in AWS (docs/plans-and-quotas.md).
   * @default '{}' - the default catalogue (free by default)
   */
  readonly plans?: string;
  /**
   * For benchmarks only (the "enforcement off" baseline of docs/benchmarks.md figure 7): `false`
   * gives no function `LIMITS_TABLE_NAME`, so none has a limiter and no tenant route is
   * rate-limited or counted against its month. Never what AWS runs.
   * @default true
   */
  readonly rateLimits?: boolean;
  /**
   * The clusters, as the CDK context `clusters` gives them (docs/clusters.md): one PostgreSQL
   * server each, `primary` first.
   * @default - one cluster, `primary`
   */
  readonly clusters?: readonly ClusterSetting[];
}

export interface Platform {
  readonly info: PlatformInfo;
  readonly bus: LocalEventBus;
  readonly workflows: LocalWorkflowStarter;
  stop(): Promise<void>;
}

/** `--plans` checked as the CDK app checks its context: a bad catalogue stops the boot, named. */
function localTenantPlans(json: string | undefined): string {
  if (json === undefined || json.trim() === '') return tenantPlansFromContext(undefined, undefined);
  let config: unknown;
  try {
    config = JSON.parse(json);
  } catch {
    throw new EngineError('plans', 'the plan catalogue is not JSON');
  }
  const { plans, defaultPlan, ...rest } = (config ?? {}) as Record<string, unknown>;
  if (typeof config !== 'object' || Array.isArray(config) || Object.keys(rest).length > 0) {
    throw new EngineError('plans', 'give an object with "plans" and/or "defaultPlan"');
  }
  try {
    return tenantPlansFromContext(plans, defaultPlan);
  } catch (error) {
    throw new EngineError('plans', error instanceof Error ? error.message : String(error));
  }
}

/**
 * Boots the whole platform on embedded engines: the same handlers, route table, event catalog
 * and state machine as in AWS. Everything listens on 127.0.0.1.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const began = performance.now();
  const log = options.log ?? (() => {});
  const stage = options.stage ?? 'local';
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  // A bad catalogue stops the boot here, named, as it stops a synthesis in AWS.
  const tenantPlans = localTenantPlans(options.plans);
  const clusters = options.clusters ?? clustersFromContext(undefined);
  const stateDir = await prepareStateDir(options.stateDir);
  // Each step registers the stop of whatever it started, so a later step's failure stops it again.
  const stops = new Stops();
  // The templates are read (or synthesized) while the engines start; awaited once the names are known.
  const assembly = loadAssembly({ stage, repoRoot: REPO_ROOT, assemblyDir: options.assemblyDir, clusters });
  assembly.catch(() => {});
  // Every stand-in asks this; it becomes the templates' authorizer before any function runs.
  let authorize: Authorize = allowAll;
  const iamGate: Authorize = (request) => authorize(request);

  try {
    const engines = await startStorageEngines(
      stateDir,
      { ...ports, dynamodb: 0 },
      stops,
      clusters.slice(1).map((c) => c.id),
    );
    const postgres = engines.postgres;
    const dynamo = await guardDynamo(engines.dynamo, ports.dynamodb, iamGate, stops);
    log(`postgres on ${postgres.port}, dynamodb on ${dynamo.port}`);

    const standIns = await startAwsStandIns(
      {
        stateDir,
        stage,
        postgres,
        morePostgres: engines.morePostgres,
        ports: { secretsManager: ports.secretsmanager, dataApi: ports.dataapi },
        authorize: iamGate,
      },
      stops,
    );
    await ensureControlDatabase(postgres, standIns.master);
    // Every function module, bound to its own services once they can be made (below).
    const functions = new FunctionModules();
    const workflows = await startProvisioningWorkflows(stateDir, functions, stops);

    const { lambda, cognito } = await startCognitoWithTriggers(
      stateDir,
      ports,
      log,
      stops,
      iamGate,
      functions,
    );
    const pool = await ensureStageUserPool(cognito, stage);
    log(`cognito on ${cognito.endpoint} (pool ${pool.userPoolId})`);

    const tables = {
      audit: `tenantry-${stage}-audit`,
      usage: `tenantry-${stage}-usage`,
      limits: `tenantry-${stage}-limits`,
    };
    const eventBusName = `tenantry-${stage}`;
    const resourceNames = {
      auditTable: tables.audit,
      usageTable: tables.usage,
      limitsTable: tables.limits,
      userPoolId: pool.userPoolId,
      masterSecretArn: standIns.masterSecretArn,
      clusterMasterSecretArns: Object.fromEntries(standIns.clusters.map((c) => [c.id, c.masterSecretArn])),
      controlSecretArn: standIns.controlSecretArn,
      poolSecretArn: standIns.poolSecretArn,
      exportsBucket: `tenantry-${stage}-finance-exports`,
      telemetryDeadLetterQueue: `tenantry-${stage}-telemetry-dead-letter`,
      backupsKeyId: LOCAL_BACKUPS_KEY_ID,
    };
    const iam = platformIam(await assembly, resourceNames);
    authorize = iam.authorizer.authorize;
    log(`iam: ${iam.functions.length} functions with their roles' policies`);
    // AssumeRole and GetCallerIdentity, decided by the IAM stand-in: tenant-scoped sessions.
    const sts = await startSts({ port: ports.sts, decisions: iam.authorizer });
    stops.push(sts.stop);
    const environment = platformEnvironment({
      stage,
      stateDir,
      pool,
      tables,
      eventBusName,
      standIns,
      tenantAccessRoleArn: iam.tenantAccessRoleArn,
      tenantPlans,
      rateLimits: options.rateLimits ?? true,
      backupsKeyArn: localBackupsKeyArn(),
    });
    const endpoints: Omit<LocalServices['endpoints'], 'eventBridge'> = {
      sts: sts.endpoint,
      rdsData: standIns.dataApi.endpoint,
      secretsManager: standIns.secretsManager.endpoint,
      dynamodb: dynamo.endpoint,
      cognitoIdentityProvider: cognito.endpoint,
    };
    const { bus, events, deadLetterFile, failedInvocationsDir, failedMessagesDir } = await startEventDelivery(
      {
        stateDir,
        eventBusName,
        subscriptions: options.subscriptions ?? defaultSubscriptions,
        port: ports.events,
        lambda,
        log,
        iam,
        // The bus's own endpoint is known when this is asked: at a consumer's first delivery.
        configOf: (entry) => localFunctionConfig(local, entry),
        functions,
      },
      stops,
    );
    const local: LocalServices = {
      environment,
      endpoints: { ...endpoints, eventBridge: events.endpoint },
      workflows,
      iam,
      exportsBucket: resourceNames.exportsBucket,
      backupsKeyArn: localBackupsKeyArn(),
    };
    functions.compose((entry) => localServicesFor(local, entry));
    await runControlMigrations(functions, clusters);
    await ensureRecordTables(dynamo, REGION, tables);

    // The console first: the API's CORS allows exactly its origin, as the CDK app's does.
    let apiUrl = '';
    const webConsole = await startConsoleServer({
      port: ports.console,
      config: () => ({
        apiUrl,
        region: REGION,
        userPoolId: pool.userPoolId,
        clientId: pool.clientId,
        cognitoEndpoint: cognito.endpoint,
      }),
    });
    stops.push(webConsole.stop);
    const gateway = await startApi(ports.api, pool, functions, stops, consoleOrigins(webConsole.port));
    apiUrl = gateway.url;

    const info: PlatformInfo = {
      apiUrl: gateway.url,
      consoleUrl: webConsole.url,
      region: REGION,
      stage,
      userPoolId: pool.userPoolId,
      clientId: pool.clientId,
      issuer: pool.issuer,
      jwksUri: pool.jwksUri,
      endpoints: {
        cognito: cognito.endpoint,
        dynamodb: dynamo.endpoint,
        eventBridge: events.endpoint,
        lambda: lambda.endpoint,
        secretsManager: standIns.secretsManager.endpoint,
        dataApi: standIns.dataApi.endpoint,
        sts: sts.endpoint,
      },
      dataApi: {
        endpoint: standIns.dataApi.endpoint,
        clusterArn: standIns.clusterArn,
        masterSecretArn: standIns.masterSecretArn,
        controlSecretArn: standIns.controlSecretArn,
        poolSecretArn: standIns.poolSecretArn,
        database: CONTROL_DATABASE,
      },
      secretsManager: { endpoint: standIns.secretsManager.endpoint },
      functions: Object.fromEntries(
        iam.functions.map((fn) => {
          const { accessKeyId, roleArn } = iam.authorizer.credentialsFor(fn.entry);
          return [fn.entry, { accessKeyId, roleArn }];
        }),
      ),
      resources: {
        exportsBucket: resourceNames.exportsBucket,
        telemetryDeadLetterQueue: resourceNames.telemetryDeadLetterQueue,
        stateMachineArn: iam.stateMachineArn,
        ...(iam.tenantAccessRoleArn === undefined ? {} : { tenantAccessRoleArn: iam.tenantAccessRoleArn }),
      },
      postgres: {
        host: postgres.host,
        port: postgres.port,
        user: postgres.user,
        password: postgres.password,
      },
      clusters: standIns.clusters.map((cluster, i) => ({
        id: cluster.id,
        name: clusters[i]?.name ?? cluster.id,
        capacity: clusters[i]?.capacity ?? 0,
        clusterArn: cluster.clusterArn,
        masterSecretArn: cluster.masterSecretArn,
        postgres: {
          host: cluster.postgres.host,
          port: cluster.postgres.port,
          user: cluster.postgres.user,
          password: cluster.postgres.password,
        },
      })),
      tables,
      eventBusName,
      stateDir,
      deadLetterFile,
      failedInvocationsDir,
      failedMessagesDir,
      pid: process.pid,
      bootMs: Math.round(performance.now() - began),
    };
    await publishPlatformInfo(info, stops);
    return { info, bus, workflows, stop: () => stops.stopAll() };
  } catch (error) {
    await stops.stopAll();
    throw error;
  }
}
