/**
 * Which local function gets which configuration and services: the handlers are loaded as modules
 * of this process and reached the way AWS reaches them (the gateway's routes, the Lambda Invoke
 * API for Cognito triggers, the event bus for consumers, the state machine for saga steps), with
 * the same environment variables as in Lambda, each on services of its own (`FunctionModules`).
 */

import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import type { CloudFormationCustomResourceCreateEvent } from 'aws-lambda';
import type { Composed } from '#shared/composition/handler';
import type { Services } from '#shared/composition/services';
import type { ClusterSetting } from '#shared/domain/clusters';
import { catalog } from '#shared/events/events';
import type { EventSubscription } from '#shared/events/subscriptions';
import type { HttpHandler } from '#shared/http/handler';
import { RECORD_JOB_HANDLERS } from '#shared/records/scheduled-jobs';
import { routeList } from '#shared/routes/table';
import { provisioningDefinition, provisioningSteps } from '#shared/workflows/provisioning';
import { archiveFlushIntervalMs, auditArchiveDir, LocalAuditArchive } from './audit-archive.ts';
import type { Stops } from './boot.ts';
import { ConsumerThread } from './consumers.ts';
import { type CognitoHandle, startCognito, type UserPoolIds } from './engines/cognito.ts';
import type { DynamoHandle } from './engines/dynamodb.ts';
import { startIamGate } from './engines/iam-gate.ts';
import { cognitoUserPoolRules } from './engines/iam-gate-cognito.ts';
import { dynamodbRules } from './engines/iam-gate-dynamodb.ts';
import { type LambdaInvokeHandle, startLambdaInvokeEndpoint } from './engines/lambda-invoke.ts';
import { LOOPBACK } from './engines/ports.ts';
import { createLocalWorkflowRunner } from './engines/stepfunctions.ts';
import { LocalEventBus, startEventBusEndpoint } from './event-bus.ts';
import type { LocalFunctionConfig } from './function-services.ts';
import { type Gateway, startGateway } from './gateway.ts';
import type { Authorize } from './iam/access.ts';
import { checkMappingPermissions } from './iam/event-source-mappings.ts';
import type { PlatformIam } from './iam/platform-iam.ts';
import { createTokenVerifier } from './jwt.ts';
import { localFunctionArn, localFunctionName, REGION } from './local-functions.ts';
import { LOCAL_OUTBOX_FILE } from './platform-info.ts';
import { LocalWorkflowStarter } from './workflows.ts';

export { REGION };

/** Cognito trigger → handler entry, called by the local Cognito through the Lambda Invoke API. */
const COGNITO_TRIGGERS = {
  PreTokenGeneration: 'identity/pre-token-generation',
  PostConfirmation: 'identity/post-confirmation',
} as const;

type Invoke = (...args: unknown[]) => Promise<unknown>;
type FunctionModule = { handler: Composed<Invoke> };

/**
 * The functions' modules, each imported once (its cold start) and bound to its own services, as
 * a warm Lambda instance keeps its own: every `import()` would go through the module loader's
 * resolve hooks again, which costs more than the request. The services are given once the
 * engines they are made on have started (`compose`); a function runs only after that.
 */
export class FunctionModules {
  #servicesOf: ((entry: string) => Services) | undefined;
  readonly #loaded = new Map<string, Promise<Invoke>>();

  /** Gives every function its services: `servicesOf(entry)`, asked once per function. */
  compose(servicesOf: (entry: string) => Services): void {
    this.#servicesOf = servicesOf;
  }

  load(entry: string): Promise<Invoke> {
    let loaded = this.#loaded.get(entry);
    if (!loaded) {
      const servicesOf = this.#servicesOf;
      if (!servicesOf)
        return Promise.reject(new Error(`${entry} invoked before the platform composed its services`));
      loaded = (import(`#functions/${entry}`) as Promise<FunctionModule>).then((module) =>
        module.handler.with(servicesOf(entry)),
      );
      this.#loaded.set(entry, loaded);
      loaded.catch(() => this.#loaded.delete(entry));
    }
    return loaded;
  }

  async invoke(entry: string, ...args: unknown[]): Promise<unknown> {
    return (await this.load(entry))(...args);
  }
}

/** The provisioning state machine, each step's task the step's function module. */
export async function startProvisioningWorkflows(
  stateDir: string,
  functions: FunctionModules,
  stops: Stops,
): Promise<LocalWorkflowStarter> {
  const workflowRunner = await createLocalWorkflowRunner({
    definition: provisioningDefinition((step) => localFunctionArn(provisioningSteps[step])),
    tasks: Object.fromEntries(
      Object.values(provisioningSteps).map((entry) => [
        localFunctionArn(entry),
        async (input: unknown) => functions.invoke(entry, input, {}),
      ]),
    ),
    stateMachineName: 'provisioning',
    dataDir: path.join(stateDir, 'workflows'),
  });
  stops.push(() => workflowRunner.stop());
  return new LocalWorkflowStarter(workflowRunner);
}

export interface LocalIdentity {
  readonly lambda: LambdaInvokeHandle;
  readonly cognito: CognitoHandle;
}

/**
 * The local Cognito, calling the trigger functions through a local Lambda Invoke endpoint, behind
 * the IAM gate: the engine listens on a free port, the gate on the Cognito port, and everything —
 * the functions' admin calls, the CLI's sign-ups, the issuer of the tokens and its JWKS — goes
 * through the gate, which judges the IAM-authorised operations by the caller's role.
 */
export async function startCognitoWithTriggers(
  stateDir: string,
  ports: { readonly lambda: number; readonly cognito: number },
  log: (line: string) => void,
  stops: Stops,
  authorize: Authorize,
  functions: FunctionModules,
): Promise<LocalIdentity> {
  const triggerEntries = Object.entries(COGNITO_TRIGGERS);
  const lambda = await startLambdaInvokeEndpoint({
    port: ports.lambda,
    functions: Object.fromEntries(
      triggerEntries.map(([, entry]) => [
        localFunctionName(entry),
        async (event: unknown) => functions.invoke(entry, event, {}),
      ]),
    ),
    onError: (name, error) => log(`lambda ${name} failed: ${error instanceof Error ? error.message : error}`),
  });
  stops.push(lambda.stop);

  const outbox = path.join(stateDir, LOCAL_OUTBOX_FILE);
  const engine = await startCognito({
    dataDir: path.join(stateDir, 'cognito'),
    port: 0,
    // No email leaves the machine: each code is logged and appended to the outbox, where the
    // console's sign-up (and its browser test) finds it.
    onCode: (sent) => {
      log(`mail (not sent) to ${sent.destination}: code ${sent.code}`);
      appendFileSync(
        outbox,
        `${JSON.stringify({ to: sent.destination, code: sent.code, at: sent.at.toISOString() })}\n`,
      );
    },
    lambdaEndpoint: lambda.endpoint,
    triggers: Object.fromEntries(
      triggerEntries.map(([trigger, entry]) => [trigger, localFunctionName(entry)]),
    ),
  });
  stops.push(engine.stop);
  const gate = await startIamGate({
    port: ports.cognito,
    upstream: engine.endpoint,
    service: cognitoUserPoolRules(),
    authorize,
  });
  stops.push(gate.stop);
  engine.publishAt(gate.endpoint);
  return { lambda, cognito: { ...engine, endpoint: gate.endpoint, port: gate.port } };
}

/** The local DynamoDB API behind the IAM gate, which listens on the DynamoDB port. */
export async function guardDynamo(
  engine: DynamoHandle,
  port: number,
  authorize: Authorize,
  stops: Stops,
): Promise<DynamoHandle> {
  const gate = await startIamGate({ port, upstream: engine.endpoint, service: dynamodbRules(), authorize });
  stops.push(gate.stop);
  return { ...engine, endpoint: gate.endpoint, port: gate.port };
}

export interface EventDeliveryOptions {
  readonly stateDir: string;
  readonly eventBusName: string;
  readonly subscriptions: readonly EventSubscription[];
  readonly port: number;
  /** The local Lambda Invoke endpoint: the consumers and the scheduled jobs are served there too. */
  readonly lambda: LambdaInvokeHandle;
  readonly log: (line: string) => void;
  /** The IAM stand-in, asked on every PutEvents. */
  readonly iam: PlatformIam;
  /** Each consumer's environment and clients, which the consumer thread composes its services from. */
  readonly configOf: (entry: string) => LocalFunctionConfig;
  readonly functions: FunctionModules;
}

export interface EventDelivery {
  readonly bus: LocalEventBus;
  /** The PutEvents endpoint. */
  readonly events: { readonly endpoint: string };
  /** The rules' dead-letter queue: events EventBridge could not deliver to a consumer. */
  readonly deadLetterFile: string;
  /** The functions' on-failure destinations, `<dir>/<function name>.jsonl`. */
  readonly failedInvocationsDir: string;
  /** The consumer queues' dead-letter queues, `<dir>/<queue name>.jsonl`. */
  readonly failedMessagesDir: string;
  /** The audit archive's stream and bucket (docs/audit-archive.md, "Local platform"). */
  readonly archive: LocalAuditArchive;
}

/**
 * `TENANTRY_ASYNC_TIME_SCALE` (0 < x ≤ 1): how much shorter than in AWS the waits between
 * EventBridge's and Lambda's retries are. 0.001 by default, so Lambda's 1 and 2 minutes take 60 and
 * 120 ms; 1 waits as AWS does.
 */
function localAsyncTimeScale(): number {
  const raw = process.env.TENANTRY_ASYNC_TIME_SCALE;
  if (raw === undefined) return 0.001;
  const value = Number(raw);
  if (!(value > 0 && value <= 1)) {
    throw new Error(
      `TENANTRY_ASYNC_TIME_SCALE must be a number above 0 and at most 1, not ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/**
 * The event bus and its PutEvents endpoint, invoking the consumers (on their own thread)
 * asynchronously as EventBridge invokes a Lambda target; the publishers' clients are given its
 * endpoint (`LocalServices.endpoints`). The consumers and the scheduled jobs are also served on the local
 * Lambda Invoke endpoint, where an `Event` invocation goes through the same Lambda queue (retries,
 * on-failure destination) — the schedules' way of invoking the jobs, and the redrive of
 * docs/operations.md.
 */
export async function startEventDelivery(
  {
    stateDir,
    eventBusName,
    subscriptions,
    port,
    lambda,
    log,
    iam,
    configOf,
    functions,
  }: EventDeliveryOptions,
  stops: Stops,
): Promise<EventDelivery> {
  const deadLetterFile = path.join(stateDir, 'events-dead-letter.jsonl');
  const failedInvocationsDir = path.join(stateDir, 'failed-invocations');
  const failedMessagesDir = path.join(stateDir, 'failed-messages');
  // Each consumer reads the queue its template's event source mapping names, with the mapping's
  // and the queue's settings; a mapping whose role may not read its queue fails as Lambda fails it.
  const mappings = new Map(iam.eventSourceMappings.map((mapping) => [mapping.entry, mapping]));
  for (const mapping of mappings.values()) {
    await checkMappingPermissions(
      mapping,
      iam.authorizer.authorize,
      iam.credentialsFor(mapping.entry)?.accessKeyId,
    );
  }
  const consumers = new ConsumerThread(configOf);
  stops.push(() => consumers.stop());
  const archive = new LocalAuditArchive({
    dir: auditArchiveDir(stateDir),
    streamName: `${eventBusName}-audit-archive`,
    flushIntervalMs: archiveFlushIntervalMs(),
    onError: (error) =>
      log(
        `audit archive: a flush failed, kept for the next: ${error instanceof Error ? error.message : error}`,
      ),
  });
  archive.start();
  const bus = new LocalEventBus({
    busName: eventBusName,
    catalog,
    subscriptions,
    deadLetterFile,
    failedInvocationsDir,
    failedMessagesDir,
    timeScale: localAsyncTimeScale(),
    queueSettings: (subscription) => mappings.get(subscription.handler),
    deliver: (subscription, event) => consumers.deliver(subscription.handler, event),
    onAccepted: (event) => archive.accept(event),
    onFailedMessage: (subscription, message) =>
      log(
        `${subscription.name}: message ${message.MessageId} moved to the dead-letter queue after ` +
          `${message.Attributes.ApproximateReceiveCount} receives`,
      ),
    onDeadLetter: (letter, event) =>
      log(
        `event ${event.id} not delivered by ${letter.MessageAttributes.RULE_ARN.StringValue}: ` +
          `${letter.MessageAttributes.ERROR_CODE.StringValue} ${letter.MessageAttributes.ERROR_MESSAGE.StringValue}`,
      ),
    onFailedInvocation: (record) =>
      log(
        `${record.requestContext.functionArn} failed (${record.requestContext.condition}, ` +
          `${record.requestContext.approximateInvokeCount} attempts): ${record.responsePayload.errorMessage}`,
      ),
  });

  const serveAsync = (entry: string, run: (event: unknown) => Promise<unknown>) =>
    lambda.serve(localFunctionName(entry), {
      invoke: run,
      invokeAsync: (event) =>
        bus.lambda.invoke(
          { functionName: localFunctionName(entry), functionArn: localFunctionArn(entry), run },
          event,
        ),
    });
  for (const subscription of subscriptions) {
    serveAsync(subscription.handler, (event) => consumers.deliver(subscription.handler, event));
  }
  for (const entry of Object.values(RECORD_JOB_HANDLERS)) {
    serveAsync(entry, (event) => functions.invoke(entry, event, {}));
  }

  const events = await startEventBusEndpoint(bus, {
    host: LOOPBACK,
    port,
    authorize: iam.authorizer.authorize,
  });
  stops.push(async () => {
    // Whatever waits for a retry is retried now: a stop does not lose it, nor wait minutes for it.
    bus.hurry();
    await bus.drain();
    await events.stop();
    // Whatever the archive buffered is written: a stop loses no line.
    await archive.stop();
  });
  return { bus, events, deadLetterFile, failedInvocationsDir, failedMessagesDir, archive };
}

/**
 * The control database's migrations, applied as the deployment applies them: CloudFormation's
 * custom resource (`Custom::TenantryControlMigrations`) invokes the migrator function
 * `ops/migrate-control-db` with a Create event, and the function migrates through the Data API as
 * the master, with its own role's grants.
 */
export async function runControlMigrations(
  functions: FunctionModules,
  clusters: readonly ClusterSetting[],
): Promise<void> {
  const event: CloudFormationCustomResourceCreateEvent = {
    RequestType: 'Create',
    ServiceToken: localFunctionArn('ops/migrate-control-db'),
    ResponseURL: 'http://127.0.0.1/unused',
    StackId: `arn:aws:cloudformation:${REGION}:000000000000:stack/local/00000000-0000-0000-0000-000000000000`,
    RequestId: randomUUID(),
    LogicalResourceId: 'ControlDatabaseSchema',
    ResourceType: 'Custom::TenantryControlMigrations',
    // As ProvisioningStack gives them: the clusters the migrator records in the registry.
    ResourceProperties: {
      ServiceToken: localFunctionArn('ops/migrate-control-db'),
      clusters: JSON.stringify(clusters.map(({ id, name, capacity }) => ({ id, name, capacity }))),
    },
  };
  // The function logs what it applied, as it does in CloudWatch.
  await functions.invoke('ops/migrate-control-db', event, {});
}

/** The HTTP API: the route table's handlers behind the user pool's token check. */
export async function startApi(
  port: number,
  pool: UserPoolIds,
  functions: FunctionModules,
  stops: Stops,
  corsAllowOrigins: readonly string[],
): Promise<Gateway> {
  const gateway = await startGateway({
    host: LOOPBACK,
    port,
    corsAllowOrigins,
    routes: routeList,
    loadHandler: async (entry) => (await functions.load(entry)) as unknown as HttpHandler,
    verifyToken: createTokenVerifier({
      issuer: pool.issuer,
      jwksUri: pool.jwksUri,
      clientId: pool.clientId,
    }),
  });
  stops.push(gateway.stop);
  return gateway;
}
