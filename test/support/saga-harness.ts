import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import pg from 'pg';
import { ensureMasterOwnedDatabase } from '#infra/local/engines/aurora-master';
import { createLocalWorkflowRunner, type LocalWorkflowRunner } from '#infra/local/engines/stepfunctions';
import type { PlatformInfo } from '#infra/local/platform-info';
import { LocalWorkflowStarter } from '#infra/local/workflows';
import type { AwsClientConfig } from '#shared/adapters/aws-client-config';
import { DataApiClusters } from '#shared/adapters/data-api-clusters';
import { DataApiSqlRunner } from '#shared/adapters/data-api-sql';
import { FileBackupStore } from '#shared/adapters/file-backup-store';
import { SecretsManagerStore } from '#shared/adapters/secrets-manager-store';
import { TenantSessions } from '#shared/adapters/tenant-sessions';
import type { Composed } from '#shared/composition/handler';
import { type Services, servicesFrom } from '#shared/composition/services';
import { ensureApplicationRole } from '#shared/control/application-role';
import { ClusterRegistry } from '#shared/control/cluster-registry';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
import type { BackupStore } from '#shared/ports/backup-store';
import type { OutgoingEvent } from '#shared/ports/event-publisher';
import type { IdentityAdmin } from '#shared/ports/identity-admin';
import type { SecretStore } from '#shared/ports/secrets';
import { POOL_DATABASE, quoteIdentifier, roleNameFor, secretNameFor } from '#shared/provisioning/names';
import {
  type ProvisioningStep,
  provisioningDefinition,
  provisioningSteps,
} from '#shared/workflows/provisioning';

/**
 * Makes a step fail (`error`) or wait (`hold`: called when the step gets there; the step starts, or
 * returns, once the promise it answers resolves) when it runs, `times` times.
 */
export type Fault = {
  step: ProvisioningStep;
  when: 'before' | 'after';
  times: number;
} & ({ error: Error; hold?: never } | { hold: () => Promise<unknown>; error?: never });

/**
 * The provisioning saga in this process, run as the local platform runs it: the same definition
 * and step handlers, on the same adapters as `awsServices` builds — the Data API adapter as
 * the (non-superuser) master through the Data API stand-in, the Secrets Manager adapter on the
 * Secrets Manager stand-in, every call judged by the IAM stand-in — with a control database of its
 * own (owned by the master, as RDS makes one), a stage of its own, a recording event publisher and
 * a hook that makes chosen steps fail.
 */
export interface SagaHarness {
  /** The services the test itself uses (signed with the harness's key, which no function holds). */
  readonly services: Services;
  readonly runner: LocalWorkflowRunner;
  readonly workflows: LocalWorkflowStarter;
  /** The Secrets Manager adapter, signed with the harness's key. */
  readonly secrets: SecretStore;
  /** The backup store every step uses: a folder of the harness's own (removed by `close`). */
  readonly backupStore: BackupStore;
  readonly controlDatabase: string;
  readonly stage: string;
  /** What the saga published, in order. */
  readonly published: OutgoingEvent[];
  /** Every call of a step that a stand-in refused (`<function entry>: <message>`), in order. */
  readonly refusals: string[];
  faults: Fault[];
  /** A superuser connection for the test to look at PostgreSQL with; nothing the steps run uses it. */
  admin(): Promise<pg.Client>;
  close(): Promise<void>;
}

const arnFor = (step: ProvisioningStep) => `arn:aws:lambda:us-east-1:000000000000:function:saga-${step}`;

/**
 * An access key that belongs to no function: the IAM stand-in allows it everything, as it allows
 * an administrator's own credentials.
 */
export const HARNESS_CREDENTIALS = { accessKeyId: 'saga-harness', secretAccessKey: 'x' } as const;

export interface SagaHarnessOptions {
  /**
   * Whose credentials each step signs with.
   * - `harness`: the harness's own key, allowed everything: the steps meet PostgreSQL as the
   *   master and the Data API's and Secrets Manager's behaviour, but no IAM policy.
   * - `functions`: each step its own function's key (platform.json's `functions`), judged by that
   *   function's role in the synthesized templates, as in AWS. Those policies name the platform's
   *   stage (`tn/<stage>/*`), so the stage is then the platform's.
   * @default 'harness'
   */
  readonly credentials?: 'harness' | 'functions';
  /** The stage (it names the tenant secrets). @default - `saga<random>`; the platform's with `functions` */
  readonly stage?: string;
  /**
   * Where the backup steps keep backups (`services.backupStore` of every step and of the harness).
   * @default - a FileBackupStore in a fresh temporary folder, removed by `close`
   */
  readonly backupStore?: BackupStore;
}

const isRefusal = (error: unknown) => error instanceof Error && /AccessDenied/.test(error.name);

export async function startSagaHarness(
  info: PlatformInfo,
  options: SagaHarnessOptions = {},
): Promise<SagaHarness> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const controlDatabase = `ctl_saga_${suffix}`;
  const ownKeys = options.credentials === 'functions';
  const stage = options.stage ?? (ownKeys ? info.stage : `saga${suffix}`);
  if (ownKeys && stage !== info.stage) {
    throw new Error(`With the functions' own keys the stage is the platform's (${info.stage}), not ${stage}`);
  }
  const superuser = {
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.user,
    password: info.postgres.password,
  };
  const admin = async (database = 'postgres') => {
    const client = new pg.Client({ ...superuser, database });
    await client.connect();
    return client;
  };
  const superuserUrl = `postgres://${encodeURIComponent(superuser.user)}:${encodeURIComponent(superuser.password)}@${superuser.host}:${superuser.port}/postgres`;
  await ensureMasterOwnedDatabase(superuserUrl, controlDatabase);

  const refusals: string[] = [];
  const backupsDir = options.backupStore
    ? undefined
    : await mkdtemp(path.join(tmpdir(), 'tenantry-saga-backups-'));
  const backupStore = options.backupStore ?? new FileBackupStore(backupsDir as string);
  const clients: { destroy(): void }[] = [];
  /** The SDK clients as the composition root builds them, pointed at the stand-ins. */
  const awsClients = (entry: string | undefined, aws: AwsClientConfig) => {
    const config = { ...aws, region: info.region };
    const dataApi = new RDSDataClient({ ...config, endpoint: info.dataApi.endpoint, maxAttempts: 1 });
    const secretsManager = new SecretsManagerClient({ ...config, endpoint: info.secretsManager.endpoint });
    const sts = new STSClient({ ...config, endpoint: info.endpoints.sts });
    const recordRefusals =
      <A, R>(next: (args: A) => Promise<R>) =>
      async (args: A): Promise<R> => {
        try {
          return await next(args);
        } catch (error) {
          if (isRefusal(error)) refusals.push(`${entry ?? 'harness'}: ${(error as Error).message}`);
          throw error;
        }
      };
    dataApi.middlewareStack.add(recordRefusals, { step: 'initialize', name: 'recordRefusals' });
    secretsManager.middlewareStack.add(recordRefusals, { step: 'initialize', name: 'recordRefusals' });
    sts.middlewareStack.add(recordRefusals, { step: 'initialize', name: 'recordRefusals' });
    clients.push(dataApi, secretsManager, sts);
    return { dataApi, secretsManager, sts };
  };
  const credentialsOf = (entry: string | undefined): AwsClientConfig => {
    if (!ownKeys || entry === undefined) return { credentials: HARNESS_CREDENTIALS };
    const own = info.functions[entry];
    if (!own) throw new Error(`platform.json has no function ${entry}`);
    return { credentials: { accessKeyId: own.accessKeyId, secretAccessKey: 'x' } };
  };

  const harness = { faults: [] as Fault[] } as { faults: Fault[] } & Partial<SagaHarness>;
  const injectFault = async (step: ProvisioningStep, when: Fault['when']) => {
    const fault = harness.faults.find((f) => f.step === step && f.when === when && f.times > 0);
    if (fault) {
      fault.times -= 1;
      if (fault.hold) await fault.hold();
      else throw fault.error;
    }
  };
  const runner = await createLocalWorkflowRunner({
    definition: provisioningDefinition(arnFor),
    tasks: Object.fromEntries(
      (Object.entries(provisioningSteps) as [ProvisioningStep, string][]).map(([step, entry]) => [
        arnFor(step),
        async (input: unknown) => {
          await injectFault(step, 'before');
          const { handler } = (await import(/* @vite-ignore */ `#functions/${entry}`)) as {
            handler: Composed<(event: unknown) => Promise<unknown>>;
          };
          // As the platform runs a function: on its own services (and, with `functions`, its key).
          const result = await handler.with(servicesFor(entry))(input);
          await injectFault(step, 'after');
          return result;
        },
      ]),
    ),
    stateMachineName: `saga-${suffix}`,
    retryIntervalMs: 1,
    // One process, no cache to wait out: a move's grace before it drops the sources is short here.
    waitMs: 20,
  });
  const workflows = new LocalWorkflowStarter(runner);
  const noIdentity: IdentityAdmin = {
    findByEmail: async () => null,
    invite: async () => {
      throw new Error('no identity provider in the saga harness');
    },
  };
  const published: OutgoingEvent[] = [];
  /** What `awsServices` makes, less what the harness must override (workflows, events, identity). */
  const servicesOf = (entry: string | undefined): Services => {
    const aws = awsClients(entry, credentialsOf(entry));
    const runner = (secretArn: string) => () =>
      new DataApiSqlRunner({
        client: aws.dataApi,
        resourceArn: info.dataApi.clusterArn,
        secretArn,
        database: controlDatabase,
      });
    const masterControl = runner(info.dataApi.masterSecretArn);
    // A step with its own key reaches the control database as the application role and a tenant's
    // database through a tenant-access session, as in AWS; the harness itself as the master.
    const asFunction = ownKeys && entry !== undefined;
    const roleArn = info.resources.tenantAccessRoleArn;
    return servicesFrom({
      events: () => ({
        publish: async (events: readonly OutgoingEvent[]) => {
          published.push(...events);
          return { failed: [] };
        },
      }),
      settings: () => ({ stage, controlDatabase }),
      control: asFunction ? runner(info.dataApi.controlSecretArn) : masterControl,
      masterControl,
      identity: () => noIdentity,
      workflows: () => workflows,
      clusters: () =>
        new DataApiClusters({
          client: aws.dataApi,
          // Every cluster of the platform (`--clusters`), as the steps have them.
          clusters: info.clusters.map((c) => ({
            id: c.id,
            resourceArn: c.clusterArn,
            masterSecretArn: c.masterSecretArn,
            // One pool login for every cluster (docs/isolation-modes.md), as the functions have it.
            poolSecretArn: info.dataApi.poolSecretArn,
          })),
          clientOptions: { region: info.region, endpoint: info.dataApi.endpoint, maxAttempts: 1 },
          ...(asFunction && roleArn ? { tenantSessions: new TenantSessions({ sts: aws.sts, roleArn }) } : {}),
        }),
      secrets: () => new SecretsManagerStore(aws.secretsManager),
      backupStore: () => backupStore,
      telemetry: () => null,
    });
  };
  // One set per function, as each Lambda function has its own; the harness's own for `undefined`.
  const made = new Map<string | undefined, Services>();
  const servicesFor = (entry: string | undefined): Services => {
    let services = made.get(entry);
    if (!services) {
      services = servicesOf(entry);
      made.set(entry, services);
    }
    return services;
  };
  const services = servicesFor(undefined);
  await migrate(services.control, controlMigrations);
  // As the migrator does: the platform's clusters in the harness's registry.
  await new ClusterRegistry(services.control).sync(
    info.clusters.map(({ id, name, capacity }) => ({ id, name, capacity })),
  );
  // As the migrator does: the application role may use the harness's control database too.
  const appSecret = await services.secrets.getSecretValue(info.dataApi.controlSecretArn);
  await ensureApplicationRole(services.masterControl, JSON.parse(appSecret), controlDatabase);

  return Object.assign(harness, {
    services,
    runner,
    workflows,
    secrets: services.secrets,
    backupStore,
    controlDatabase,
    stage,
    published,
    refusals,
    admin: () => admin(),
    close: async () => {
      await runner.stop();
      // What the saga made: each tenant's secret, databases and role; then the control database.
      const tenants = await services.control.query<{ id: string }>('select id from tenants');
      // Silo databases by name; never the pool database that pooled ones (and the platform's) share.
      const databases = await services.control.query<{ name: string }>(
        'select database_name as name from tenant_databases where schema_name is null',
      );
      const schemas = await services.control.query<{ name: string }>(
        'select schema_name as name from tenant_databases where schema_name is not null',
      );
      for (const { id } of tenants) await services.secrets.deleteSecret(secretNameFor(stage, id));
      for (const client of clients) client.destroy();
      if (schemas.length > 0) {
        const pool = await admin(POOL_DATABASE);
        try {
          for (const { name } of schemas)
            await pool.query(`drop schema if exists ${quoteIdentifier(name)} cascade`);
        } finally {
          await pool.end();
        }
      }
      const client = await admin();
      try {
        for (const { name } of databases) {
          await client.query(`drop database if exists ${quoteIdentifier(name)} with (force)`);
        }
        for (const { id } of tenants)
          await client.query(`drop role if exists ${quoteIdentifier(roleNameFor(id))}`);
        await client.query(`drop database if exists ${controlDatabase} with (force)`);
      } finally {
        await client.end();
        if (backupsDir) await rm(backupsDir, { recursive: true, force: true });
      }
    },
  }) as SagaHarness;
}
