import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { functionHandler } from '#shared/composition/handler';
import type { Services } from '#shared/composition/services';
import {
  type ApplicationRoleCredentials,
  ensureApplicationRole,
  passwordLiteral,
} from '#shared/control/application-role';
import { ClusterRegistry } from '#shared/control/cluster-registry';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
import { logger } from '#shared/core/logger';
import { type ClusterSetting, clusterRegistryPropertySchema } from '#shared/domain/clusters';
import { ConfigError } from '#shared/errors';
import { DatabaseResuming } from '#shared/ports/sql';
import { ensurePool } from '#shared/provisioning/pool';

const PHYSICAL_ID = 'tenantry-control-database-migrations';

/**
 * The migrations, as the master (it owns the control schema), then the configured clusters into
 * the registry, then the application role the other functions log in as, its password from its
 * own secret (`CONTROL_SECRET_ARN`), then the pool login role and pool database of every cluster
 * (their password from `POOL_SECRET_ARN`).
 */
async function migrateAndGrant(services: Services, clusters: readonly ClusterSetting[]) {
  const result = await migrate(services.masterControl, controlMigrations);
  const synced = await new ClusterRegistry(services.masterControl).sync(clusters);
  if (synced.added.length > 0 || synced.closed.length > 0) logger.info('cluster registry synced', synced);
  const { controlSecretArn, controlDatabase } = services.settings;
  if (!controlSecretArn) {
    throw new ConfigError('Invalid configuration: CONTROL_SECRET_ARN: missing', ['CONTROL_SECRET_ARN']);
  }
  const credentials = JSON.parse(
    await services.secrets.getSecretValue(controlSecretArn),
  ) as ApplicationRoleCredentials;
  await ensureApplicationRole(services.masterControl, credentials, controlDatabase);
  await ensurePools(services);
  return result;
}

/** The pooled tier's login role and database on every cluster (shared/provisioning/pool.ts). */
async function ensurePools(services: Services) {
  for (const clusterId of services.clusters.ids()) {
    const { username, password } = JSON.parse(
      await services.secrets.getSecretValue(services.clusters.poolSecretOf(clusterId)),
    ) as ApplicationRoleCredentials;
    await ensurePool(services.clusters, clusterId, {
      username,
      passwordLiteral: passwordLiteral(password, 'The pool secret'),
    });
  }
}

/** A paused Aurora Serverless v2 cluster answers "resuming" for up to about a minute. */
async function migrateWhenAwake(services: Services, clusters: readonly ClusterSetting[], attempts = 12) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateAndGrant(services, clusters);
    } catch (error) {
      if (!(error instanceof DatabaseResuming) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }
}

/** What the provider framework reports to CloudFormation on success. */
export interface MigrationResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/**
 * onEvent handler of the control migrations custom resource (aws-cdk-lib's Provider framework
 * answers CloudFormation): applies the control database migrations on every deploy that changes
 * them (the resource's `version` property) or the clusters (`clusters`, docs/clusters.md), before
 * the API serves, records the clusters, and grants the application role what the migrations made. A thrown error is reported as the resource's failure. Deleting the stack
 * leaves the data alone.
 */
export const handler = functionHandler(
  async (event: CloudFormationCustomResourceEvent, services): Promise<MigrationResponse> => {
    if (event.RequestType === 'Delete') return { PhysicalResourceId: PHYSICAL_ID };
    try {
      // The configured clusters come as the resource's property (ProvisioningStack), so that a
      // deploy that changes them runs the migrator again (an Update), as a new migration does.
      const clusters = clusterRegistryPropertySchema.parse(event.ResourceProperties.clusters);
      const result = await migrateWhenAwake(services, clusters);
      const data = { current: String(result.current), applied: result.applied.join(',') };
      logger.info('control database migrated', data);
      return { PhysicalResourceId: PHYSICAL_ID, Data: data };
    } catch (error) {
      logger.error('control database migration failed', error as Error);
      throw error;
    }
  },
);
