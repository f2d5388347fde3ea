/**
 * The AWS APIs the handlers call that the local platform answers with stand-ins of its own,
 * speaking the real protocols: Secrets Manager (the master secret and every tenant's) and the
 * RDS Data API in front of the embedded PostgreSQL, logging in with the secret each call names.
 * The master is created here as RDS creates it with the cluster: its secret first, then the role.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CONTROL_APP_USER } from '#shared/control/application-role';
import { PRIMARY_CLUSTER_ID } from '#shared/domain/clusters';
import { POOL_APP_USER } from '#shared/provisioning/names';
import type { Stops } from './boot.ts';
import { ensureAuroraMaster, MASTER_USER, type MasterCredentials } from './engines/aurora-master.ts';
import { type DataApiHandle, startDataApi } from './engines/data-api/index.ts';
import { LOOPBACK } from './engines/ports.ts';
import type { PostgresHandle } from './engines/postgres.ts';
import { type SecretsManagerHandle, startSecretsManager } from './engines/secrets-manager.ts';
import { type Authorize, allowAll, LOCAL_ACCOUNT_ID, LOCAL_REGION } from './iam/access.ts';
import { CONTROL_DATABASE } from './platform-info.ts';

/** One local cluster: its PostgreSQL server, ARN and master. */
export interface LocalCluster {
  readonly id: string;
  readonly postgres: PostgresHandle;
  readonly clusterArn: string;
  readonly masterSecretArn: string;
  readonly master: MasterCredentials;
}

export interface AwsStandIns {
  readonly secretsManager: SecretsManagerHandle;
  readonly dataApi: DataApiHandle;
  /** The control cluster's (`primary`). */
  readonly clusterArn: string;
  readonly masterSecretArn: string;
  /** Every cluster, `primary` first. */
  readonly clusters: readonly LocalCluster[];
  /** The control database application role's secret (`CONTROL_SECRET_ARN`). */
  readonly controlSecretArn: string;
  /** The pool login role's secret (`POOL_SECRET_ARN`; the migrator makes the role). */
  readonly poolSecretArn: string;
  readonly master: MasterCredentials;
}

export interface AwsStandInOptions {
  readonly stateDir: string;
  readonly stage: string;
  readonly postgres: PostgresHandle;
  /** The other clusters' servers, by cluster id (`--clusters`). @default - none */
  readonly morePostgres?: ReadonlyMap<string, PostgresHandle>;
  readonly ports: { readonly secretsManager: number; readonly dataApi: number };
  /** The IAM stand-in; by default every call is allowed. */
  readonly authorize?: Authorize;
}

/** As the CDK app names the clusters (`tenantry-<stage>`, then `tenantry-<stage>-<id>`). */
export const localClusterArn = (stage: string, clusterId = PRIMARY_CLUSTER_ID) =>
  `arn:aws:rds:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:cluster:tenantry-${stage}${clusterId === PRIMARY_CLUSTER_ID ? '' : `-${clusterId}`}`;
export const masterSecretName = (stage: string, clusterId = PRIMARY_CLUSTER_ID) =>
  clusterId === PRIMARY_CLUSTER_ID
    ? `tenantry/${stage}/cluster/master`
    : `tenantry/${stage}/cluster/${clusterId}/master`;
/** As the CDK app names it (`ControlAppSecret`, infra/stacks/stateful-stack.ts). */
export const controlSecretName = (stage: string) => `tenantry/${stage}/cluster/control-app`;
/** As the CDK app names it (`PoolAppSecret`, infra/stacks/stateful-stack.ts). */
export const poolSecretName = (stage: string) => `tenantry/${stage}/cluster/pool-app`;

/**
 * A database user's secret, made on the first start with a new password as RDS (the master's) or
 * CloudFormation (`rds.DatabaseSecret`, the control application role's) makes it, and read back
 * on every later start.
 */
async function clusterSecret(
  secretsManager: SecretsManagerHandle,
  postgres: PostgresHandle,
  secret: { readonly name: string; readonly username: string; readonly description: string },
): Promise<{ arn: string; password: string }> {
  const existing = await secretsManager.lookup(secret.name);
  if (existing) {
    return { arn: existing.arn, password: (JSON.parse(existing.value) as { password: string }).password };
  }
  const password = randomBytes(24).toString('base64url');
  // As an administrator would: an access key that belongs to no function is allowed everything.
  const client = new SecretsManagerClient({
    region: LOCAL_REGION,
    endpoint: secretsManager.endpoint,
    credentials: { accessKeyId: 'local-administrator', secretAccessKey: 'local' },
  });
  try {
    const created = await client.send(
      new CreateSecretCommand({
        Name: secret.name,
        Description: secret.description,
        SecretString: JSON.stringify({
          engine: 'postgres',
          host: postgres.host,
          port: postgres.port,
          username: secret.username,
          password,
          dbname: CONTROL_DATABASE,
        }),
      }),
    );
    return { arn: created.ARN ?? '', password };
  } finally {
    client.destroy();
  }
}

export async function startAwsStandIns(options: AwsStandInOptions, stops: Stops): Promise<AwsStandIns> {
  const { stateDir, stage, postgres, ports } = options;
  const authorize = options.authorize ?? allowAll;
  const secretsManager = await startSecretsManager({
    dataDir: path.join(stateDir, 'secrets-manager'),
    host: LOOPBACK,
    port: ports.secretsManager,
    authorize,
  });
  stops.push(secretsManager.stop);
  // Each cluster's master, as RDS makes it with its cluster: its own secret, then the role.
  const servers: [string, PostgresHandle][] = [
    [PRIMARY_CLUSTER_ID, postgres],
    ...(options.morePostgres ?? []),
  ];
  const clusters: LocalCluster[] = [];
  for (const [id, server] of servers) {
    const secret = await clusterSecret(secretsManager, server, {
      name: masterSecretName(stage, id),
      username: MASTER_USER,
      description: `Master user of the local cluster ${id} (as RDS generates it)`,
    });
    const master = await ensureAuroraMaster(server.connectionString('postgres'), secret.password);
    clusters.push({
      id,
      postgres: server,
      clusterArn: localClusterArn(stage, id),
      masterSecretArn: secret.arn,
      master,
    });
  }
  // The migrator makes the role and sets its password from this secret, as in AWS.
  const controlSecret = await clusterSecret(secretsManager, postgres, {
    name: controlSecretName(stage),
    username: CONTROL_APP_USER,
    description: 'The control database application role (as the CDK app generates it)',
  });
  const poolSecret = await clusterSecret(secretsManager, postgres, {
    name: poolSecretName(stage),
    username: POOL_APP_USER,
    description: 'The pool login role of pooled tenants (as the CDK app generates it)',
  });
  const [primary, ...others] = clusters;
  if (!primary) throw new Error('No local cluster');
  const endpointOf = (server: PostgresHandle) => ({ host: server.host, port: server.port });
  const dataApi = await startDataApi({
    host: LOOPBACK,
    port: ports.dataApi,
    postgres: endpointOf(primary.postgres),
    clusterArn: primary.clusterArn,
    moreClusters: others.map((c) => ({ clusterArn: c.clusterArn, postgres: endpointOf(c.postgres) })),
    secrets: secretsManager,
    authorize,
  });
  stops.push(dataApi.stop);
  return {
    secretsManager,
    dataApi,
    clusterArn: primary.clusterArn,
    masterSecretArn: primary.masterSecretArn,
    controlSecretArn: controlSecret.arn,
    poolSecretArn: poolSecret.arn,
    master: primary.master,
    clusters,
  };
}
