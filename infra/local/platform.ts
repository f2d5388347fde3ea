import { subscriptions as defaultSubscriptions, type EventSubscription } from '#shared/events/subscriptions';
import { startAwsStandIns } from './aws-stand-ins.ts';
import { prepareStateDir, publishPlatformInfo, Stops, startStorageEngines } from './boot.ts';
import type { LocalEventBus } from './event-bus.ts';
import { CONTROL_DATABASE, type PlatformInfo, platformInfoFile } from './platform-info.ts';
import { ensureRecordTables, ensureStageUserPool, migrateControlDatabase } from './schema.ts';
import {
  configureFunctionEnvironment,
  installLocalServices,
  REGION,
  startApi,
  startCognitoWithTriggers,
  startEventDelivery,
  startProvisioningWorkflows,
} from './wiring.ts';
import type { LocalWorkflowStarter } from './workflows.ts';

export { CONTROL_DATABASE, type PlatformInfo, platformInfoFile };

export interface PlatformPorts {
  readonly api: number;
  readonly postgres: number;
  readonly dynamodb: number;
  readonly cognito: number;
  readonly lambda: number;
  readonly events: number;
  readonly secretsmanager: number;
  readonly dataapi: number;
}

export const DEFAULT_PORTS: PlatformPorts = {
  api: 3000,
  postgres: 5433,
  dynamodb: 8001,
  cognito: 9229,
  lambda: 9001,
  events: 9002,
  secretsmanager: 9003,
  dataapi: 9004,
};

export interface PlatformOptions {
  /** Where every engine keeps its state; survives restarts, wiped by `npm run reset`. */
  readonly stateDir: string;
  readonly ports?: Partial<PlatformPorts>;
  readonly stage?: string;
  /** Overrides the event subscriptions (tests use this to add a failing consumer). */
  readonly subscriptions?: readonly EventSubscription[];
  readonly log?: (line: string) => void;
}

export interface Platform {
  readonly info: PlatformInfo;
  readonly bus: LocalEventBus;
  readonly workflows: LocalWorkflowStarter;
  stop(): Promise<void>;
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
  const stateDir = await prepareStateDir(options.stateDir);
  // Each step registers the stop of whatever it started, so a later step's failure stops it again.
  const stops = new Stops();

  try {
    const { postgres, dynamo } = await startStorageEngines(stateDir, ports, stops);
    log(`postgres on ${postgres.port}, dynamodb on ${dynamo.port}`);

    const standIns = await startAwsStandIns(
      { stateDir, stage, postgres, ports: { secretsManager: ports.secretsmanager, dataApi: ports.dataapi } },
      stops,
    );
    await migrateControlDatabase(postgres, standIns.master, stops, log);
    const workflows = await startProvisioningWorkflows(stateDir, stops);

    const { lambda, cognito } = await startCognitoWithTriggers(stateDir, ports, log, stops);
    const pool = await ensureStageUserPool(cognito, stage);
    log(`cognito on ${cognito.endpoint} (pool ${pool.userPoolId})`);

    const tables = { audit: `tenantry-${stage}-audit`, usage: `tenantry-${stage}-usage` };
    const eventBusName = `tenantry-${stage}`;
    configureFunctionEnvironment({ stage, stateDir, dynamo, cognito, pool, tables, eventBusName, standIns });
    installLocalServices({ workflows });
    await ensureRecordTables(dynamo, REGION, tables);

    const { bus, events, deadLetterFile, failedInvocationsDir } = await startEventDelivery(
      {
        stateDir,
        eventBusName,
        subscriptions: options.subscriptions ?? defaultSubscriptions,
        port: ports.events,
        lambda,
        log,
      },
      stops,
    );
    const gateway = await startApi(ports.api, pool, stops);

    const info: PlatformInfo = {
      apiUrl: gateway.url,
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
      },
      dataApi: {
        endpoint: standIns.dataApi.endpoint,
        clusterArn: standIns.clusterArn,
        masterSecretArn: standIns.masterSecretArn,
        database: CONTROL_DATABASE,
      },
      secretsManager: { endpoint: standIns.secretsManager.endpoint },
      postgres: {
        host: postgres.host,
        port: postgres.port,
        user: postgres.user,
        password: postgres.password,
      },
      tables,
      eventBusName,
      stateDir,
      deadLetterFile,
      failedInvocationsDir,
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
