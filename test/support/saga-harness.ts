import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { LocalClusters } from '#infra/local/clusters';
import { FileSecretStore } from '#infra/local/engines/secrets';
import { createLocalWorkflowRunner, type LocalWorkflowRunner } from '#infra/local/engines/stepfunctions';
import type { PlatformInfo } from '#infra/local/platform-info';
import { LocalWorkflowStarter } from '#infra/local/workflows';
import { PgSqlRunner } from '#shared/adapters/pg-sql';
import { installServices } from '#shared/composition/runtime';
import { type Services, servicesFrom } from '#shared/composition/services';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
import type { OutgoingEvent } from '#shared/ports/event-publisher';
import type { IdentityAdmin } from '#shared/ports/identity-admin';
import type { SecretStore } from '#shared/ports/secrets';
import {
  type ProvisioningStep,
  provisioningDefinition,
  provisioningSteps,
} from '#shared/workflows/provisioning';

export type Fault = { step: ProvisioningStep; when: 'before' | 'after'; error: Error; times: number };

/**
 * The provisioning saga in this process: the same definition and step handlers as the platform,
 * on the platform's real PostgreSQL, a control database and a secret store of its own, and a
 * hook that makes chosen steps fail.
 */
export interface SagaHarness {
  readonly services: Services;
  readonly runner: LocalWorkflowRunner;
  readonly workflows: LocalWorkflowStarter;
  readonly secrets: SecretStore;
  readonly controlDatabase: string;
  readonly stage: string;
  /** What the saga published, in order. */
  readonly published: OutgoingEvent[];
  faults: Fault[];
  admin(): Promise<pg.Client>;
  close(): Promise<void>;
}

const arnFor = (step: ProvisioningStep) => `arn:aws:lambda:us-east-1:000000000000:function:saga-${step}`;

export interface SagaHarnessOptions {
  /** The stage (it names the tenant secrets). @default - `saga<random>` */
  readonly stage?: string;
  /** The secret store of the steps. @default - a FileSecretStore in a temp folder */
  readonly secrets?: SecretStore;
}

export async function startSagaHarness(
  info: PlatformInfo,
  options: SagaHarnessOptions = {},
): Promise<SagaHarness> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const controlDatabase = `ctl_saga_${suffix}`;
  const stage = options.stage ?? `saga${suffix}`;
  const connection = {
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.user,
    password: info.postgres.password,
  };
  const admin = async (database = 'postgres') => {
    const client = new pg.Client({ ...connection, database });
    await client.connect();
    return client;
  };
  const bootstrap = await admin();
  await bootstrap.query(`create database ${controlDatabase}`);
  await bootstrap.end();

  const control = new PgSqlRunner({ ...connection, database: controlDatabase });
  await migrate(control, controlMigrations);
  const secretsDir = await mkdtemp(path.join(tmpdir(), 'tenantry-saga-secrets-'));
  const secrets = options.secrets ?? new FileSecretStore(secretsDir);
  const clusters = new LocalClusters(
    {
      host: connection.host,
      port: connection.port,
      masterUser: connection.user,
      masterPassword: connection.password,
    },
    secrets,
  );

  const harness = { faults: [] as Fault[] } as { faults: Fault[] } & Partial<SagaHarness>;
  const injectFault = (step: ProvisioningStep, when: Fault['when']) => {
    const fault = harness.faults.find((f) => f.step === step && f.when === when && f.times > 0);
    if (fault) {
      fault.times -= 1;
      throw fault.error;
    }
  };
  const runner = await createLocalWorkflowRunner({
    definition: provisioningDefinition(arnFor),
    tasks: Object.fromEntries(
      (Object.entries(provisioningSteps) as [ProvisioningStep, string][]).map(([step, entry]) => [
        arnFor(step),
        async (input: unknown) => {
          injectFault(step, 'before');
          const { handler } = (await import(/* @vite-ignore */ `#functions/${entry}`)) as {
            handler: (event: unknown) => Promise<unknown>;
          };
          const result = await handler(input);
          injectFault(step, 'after');
          return result;
        },
      ]),
    ),
    stateMachineName: `saga-${suffix}`,
    retryIntervalMs: 1,
  });
  const workflows = new LocalWorkflowStarter(runner);
  const noIdentity: IdentityAdmin = {
    findByEmail: async () => null,
    invite: async () => {
      throw new Error('no identity provider in the saga harness');
    },
  };
  const published: OutgoingEvent[] = [];
  const services = servicesFrom({
    events: () => ({
      publish: async (events: readonly OutgoingEvent[]) => {
        published.push(...events);
        return { failed: [] };
      },
    }),
    settings: () => ({ stage, controlDatabase }),
    control: () => control,
    identity: () => noIdentity,
    workflows: () => workflows,
    clusters: () => clusters,
    secrets: () => secrets,
  });
  installServices(services);

  return Object.assign(harness, {
    services,
    runner,
    workflows,
    secrets,
    controlDatabase,
    stage,
    published,
    admin: () => admin(),
    close: async () => {
      await runner.stop();
      await clusters.close();
      await control.close();
      const client = await admin();
      await client.query(`drop database if exists ${controlDatabase} with (force)`);
      await client.end();
      await rm(secretsDir, { recursive: true, force: true });
    },
  }) as SagaHarness;
}
