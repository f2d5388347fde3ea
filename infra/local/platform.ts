import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import pg from 'pg';
import { busPublisherFromEnv } from '#shared/adapters/bus-publisher';
import { CognitoIdentityAdmin } from '#shared/adapters/cognito-identity-admin';
import { PgSqlRunner } from '#shared/adapters/pg-sql';
import { installServices } from '#shared/composition/runtime';
import { servicesFrom } from '#shared/composition/services';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
import { catalog } from '#shared/events/events';
import { subscriptions as defaultSubscriptions, type EventSubscription } from '#shared/events/subscriptions';
import type { HttpHandler } from '#shared/http/handler';
import { recordTables } from '#shared/records/tables';
import { routeList } from '#shared/routes/table';
import { provisioningDefinition, provisioningSteps } from '#shared/workflows/provisioning';
import { LocalClusters } from './clusters.ts';
import { ConsumerThread } from './consumers.ts';
import { ensureUserPool, startCognito } from './engines/cognito.ts';
import { startDynamo } from './engines/dynamodb.ts';
import { startLambdaInvokeEndpoint } from './engines/lambda-invoke.ts';
import { LOOPBACK } from './engines/ports.ts';
import { startPostgres } from './engines/postgres.ts';
import { FileSecretStore } from './engines/secrets.ts';
import { createLocalWorkflowRunner } from './engines/stepfunctions.ts';
import { LocalEventBus, startEventBusEndpoint } from './event-bus.ts';
import { startGateway } from './gateway.ts';
import { createTokenVerifier } from './jwt.ts';
import { CONTROL_DATABASE, type PlatformInfo, platformInfoFile, stateMarkerFile } from './platform-info.ts';
import { LocalWorkflowStarter } from './workflows.ts';

export { CONTROL_DATABASE, type PlatformInfo, platformInfoFile };

export interface PlatformPorts {
  readonly api: number;
  readonly postgres: number;
  readonly dynamodb: number;
  readonly cognito: number;
  readonly lambda: number;
  readonly events: number;
}

export const DEFAULT_PORTS: PlatformPorts = {
  api: 3000,
  postgres: 5433,
  dynamodb: 8001,
  cognito: 9229,
  lambda: 9001,
  events: 9002,
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

const REGION = 'us-east-1';
/** Cognito trigger → handler entry, called by the local Cognito through the Lambda Invoke API. */
const COGNITO_TRIGGERS = {
  PreTokenGeneration: 'identity/pre-token-generation',
  PostConfirmation: 'identity/post-confirmation',
} as const;

/** Creates a database once; `CONNECT` is revoked from PUBLIC so no tenant role can open it. */
async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
    await client.query(`revoke connect on database "${database}" from public`);
    await client.query('revoke connect on database postgres from public');
  } finally {
    await client.end();
  }
}

const functionName = (entry: string) => `tenantry-local-${entry.replace(/\//g, '-')}`;
const localFunctionArn = (entry: string) =>
  `arn:aws:lambda:${REGION}:000000000000:function:${functionName(entry)}`;

type LoadedFunction = { handler: (...args: unknown[]) => Promise<unknown> };
const loadedFunctions = new Map<string, Promise<LoadedFunction>>();

/**
 * A function's module, imported once (its cold start) and reused, as a warm Lambda is: every
 * `import()` would go through the module loader's resolve hooks again, which costs more than the
 * request.
 */
function loadModule(entry: string): Promise<LoadedFunction> {
  let loaded = loadedFunctions.get(entry);
  if (!loaded) {
    loaded = import(`#functions/${entry}`) as Promise<LoadedFunction>;
    loadedFunctions.set(entry, loaded);
    loaded.catch(() => loadedFunctions.delete(entry));
  }
  return loaded;
}

async function ensureTables(client: DynamoDBClient, names: Record<string, string>): Promise<void> {
  for (const [id, name] of Object.entries(names)) {
    const spec = recordTables[id as keyof typeof recordTables];
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
      continue;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: spec.partitionKey, AttributeType: 'S' },
          { AttributeName: spec.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: spec.partitionKey, KeyType: 'HASH' },
          { AttributeName: spec.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
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
  const stateDir = path.resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFile(
    stateMarkerFile(stateDir),
    'A Tenantry local platform state folder (npm run reset deletes it).\n',
  );
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  };

  try {
    // Started together; whichever started is stopped again if the other one failed.
    const [postgresStart, dynamoStart] = await Promise.allSettled([
      startPostgres({ dataDir: path.join(stateDir, 'postgres'), port: ports.postgres }),
      startDynamo({ dataDir: path.join(stateDir, 'dynamodb'), port: ports.dynamodb, thread: true }),
    ]);
    for (const started of [postgresStart, dynamoStart])
      if (started.status === 'fulfilled') stops.push(started.value.stop);
    if (postgresStart.status === 'rejected') throw postgresStart.reason;
    if (dynamoStart.status === 'rejected') throw dynamoStart.reason;
    const [postgres, dynamo] = [postgresStart.value, dynamoStart.value];
    log(`postgres on ${postgres.port}, dynamodb on ${dynamo.port}`);

    await ensureDatabase(postgres.connectionString('postgres'), CONTROL_DATABASE);
    const control = new PgSqlRunner({ connectionString: postgres.connectionString(CONTROL_DATABASE) });
    stops.push(() => control.close());
    const migrated = await migrate(control, controlMigrations);
    if (migrated.applied.length > 0) log(`control database migrated to version ${migrated.current}`);

    const secrets = new FileSecretStore(path.join(stateDir, 'secrets'));
    const clusters = new LocalClusters(
      {
        host: postgres.host,
        port: postgres.port,
        masterUser: postgres.user,
        masterPassword: postgres.password,
      },
      secrets,
    );
    stops.push(() => clusters.close());

    const workflowRunner = await createLocalWorkflowRunner({
      definition: provisioningDefinition((step) => localFunctionArn(provisioningSteps[step])),
      tasks: Object.fromEntries(
        Object.values(provisioningSteps).map((entry) => [
          localFunctionArn(entry),
          async (input: unknown) => (await loadModule(entry)).handler(input, {}),
        ]),
      ),
      stateMachineName: 'provisioning',
      dataDir: path.join(stateDir, 'workflows'),
    });
    stops.push(() => workflowRunner.stop());
    const workflows = new LocalWorkflowStarter(workflowRunner);

    const triggerEntries = Object.entries(COGNITO_TRIGGERS);
    const lambda = await startLambdaInvokeEndpoint({
      port: ports.lambda,
      functions: Object.fromEntries(
        triggerEntries.map(([, entry]) => [
          functionName(entry),
          async (event: unknown) => (await loadModule(entry)).handler(event, {}),
        ]),
      ),
      onError: (name, error) =>
        log(`lambda ${name} failed: ${error instanceof Error ? error.message : error}`),
    });
    stops.push(lambda.stop);

    const cognito = await startCognito({
      dataDir: path.join(stateDir, 'cognito'),
      port: ports.cognito,
      lambdaEndpoint: lambda.endpoint,
      triggers: Object.fromEntries(triggerEntries.map(([trigger, entry]) => [trigger, functionName(entry)])),
    });
    stops.push(cognito.stop);
    const pool = await ensureUserPool({
      endpoint: cognito.endpoint,
      poolName: `tenantry-${stage}`,
      clientName: `tenantry-${stage}-api`,
      groups: ['platform-admin', 'finance'],
    });
    log(`cognito on ${cognito.endpoint} (pool ${pool.userPoolId})`);

    const tables = { audit: `tenantry-${stage}-audit`, usage: `tenantry-${stage}-usage` };
    const eventBusName = `tenantry-${stage}`;
    // The handlers read the same configuration as in Lambda; the AWS SDK clients find the local
    // engines through the standard service-specific endpoint variables.
    Object.assign(process.env, {
      TENANTRY_STAGE: stage,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint,
      USER_POOL_ID: pool.userPoolId,
      USER_POOL_CLIENT_ID: pool.clientId,
      EVENT_BUS_NAME: eventBusName,
      [recordTables.audit.envVar]: tables.audit,
      [recordTables.usage.envVar]: tables.usage,
    });
    // Audit, usage and finance exports (issue 7): where closed months' CSVs are archived, and the
    // JSON-lines file that stands in for the telemetry dead-letter queue.
    Object.assign(process.env, {
      EXPORTS_DIR: path.join(stateDir, 'exports'),
      TELEMETRY_DEAD_LETTER_FILE: path.join(stateDir, 'telemetry-dead-letter.jsonl'),
    });
    installServices(
      servicesFrom({
        settings: () => ({ stage, controlDatabase: CONTROL_DATABASE }),
        control: () => control,
        clusters: () => clusters,
        secrets: () => secrets,
        events: () => busPublisherFromEnv(),
        identity: () =>
          new CognitoIdentityAdmin(new CognitoIdentityProviderClient({ region: REGION }), pool.userPoolId),
        workflows: () => workflows,
      }),
    );
    const dynamoClient = new DynamoDBClient({ region: REGION, endpoint: dynamo.endpoint });
    await ensureTables(dynamoClient, tables);
    dynamoClient.destroy();

    const deadLetterFile = path.join(stateDir, 'events-dead-letter.jsonl');
    const consumers = new ConsumerThread();
    stops.push(() => consumers.stop());
    const bus = new LocalEventBus({
      busName: eventBusName,
      catalog,
      subscriptions: options.subscriptions ?? defaultSubscriptions,
      deadLetterFile,
      deliver: (subscription, event) => consumers.deliver(subscription.handler, event),
      onDeadLetter: (entry) =>
        log(`event ${entry.event.id} dead-lettered by ${entry.subscription}: ${entry.error}`),
    });
    const events = await startEventBusEndpoint(bus, { host: LOOPBACK, port: ports.events });
    stops.push(async () => {
      await bus.drain();
      await events.stop();
    });
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = events.endpoint;

    const gateway = await startGateway({
      host: LOOPBACK,
      port: ports.api,
      routes: routeList,
      loadHandler: async (entry) => (await loadModule(entry)).handler as unknown as HttpHandler,
      verifyToken: createTokenVerifier({
        issuer: pool.issuer,
        jwksUri: pool.jwksUri,
        clientId: pool.clientId,
      }),
    });
    stops.push(gateway.stop);

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
      },
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
      pid: process.pid,
      bootMs: Math.round(performance.now() - began),
    };
    const infoFile = platformInfoFile(stateDir);
    await writeFile(infoFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    await chmod(infoFile, 0o600);
    stops.unshift(() => rm(infoFile, { force: true }));
    return { info, bus, workflows, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
