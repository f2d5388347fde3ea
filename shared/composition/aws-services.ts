import * as z from 'zod';
import { dataProtectionSettingsOf } from '#shared/compliance/data-protection';
import { type AwsClients, clientOptions } from '#shared/composition/aws-clients';
import { backupStoreFrom } from '#shared/composition/backup-store';
import { lazyPort } from '#shared/composition/lazy';
import { recordServicesFrom } from '#shared/composition/record-services';
import { type Adapters, type Services, servicesFrom } from '#shared/composition/services';
import { busPublisherOf, telemetrySinkOf } from '#shared/composition/telemetry-sink';
import { configFields, loadConfig } from '#shared/config';
import {
  type ClusterEndpoint,
  clusterPoolFrom,
  clustersEnvSchema,
  masterSecretOf,
  poolSecretOf,
} from '#shared/domain/clusters';
import { tenantPlansField } from '#shared/domain/plans';
import { type DatabaseClusters, UnknownCluster } from '#shared/ports/clusters';
import type { SqlRunner } from '#shared/ports/sql';
import { recordTables } from '#shared/records/tables';
import type { TenantLimiter } from '#shared/records/tenant-limits';

/**
 * The composition root of a Tenantry function: every adapter it can use, made in this one place
 * from the function's configuration (`env`, validated with zod when an adapter is first asked
 * for) and its SDK clients' options. Each adapter is made on first use, and its adapter module
 * and SDK client module are imported on its first call (dynamic `import()`, which the function
 * bundle keeps lazy), so a function loads only the clients it uses. Lambda builds it from
 * `process.env` on the first invocation (shared/composition/handler.ts); the local platform
 * builds it per function from that function's environment object, credentials and the
 * stand-ins' endpoints.
 */
const controlSchema = z.object({
  CLUSTER_ARN: configFields.arn,
  // The control database's application role (tenantry_app), never the master.
  CONTROL_SECRET_ARN: configFields.arn,
  CONTROL_DATABASE: z.string().default('control'),
});
const masterSchema = z.object({
  CLUSTER_ARN: configFields.arn,
  // The master: only the migrator and the steps that create and drop roles and databases have it.
  CLUSTER_SECRET_ARN: configFields.arn,
  CONTROL_DATABASE: z.string().default('control'),
});
const clusterSchema = z.object({
  // The control cluster (`primary`); the only one a deployment without `CLUSTERS` has.
  CLUSTER_ARN: configFields.arn,
  CLUSTER_SECRET_ARN: configFields.arn.optional(),
  // Every cluster's resource ARN by id, and (the functions that create and drop databases) its
  // master secret's: the CDK app sets them from its `clusters` context (docs/clusters.md).
  CLUSTERS: clustersEnvSchema.optional(),
  CLUSTER_SECRET_ARNS: clustersEnvSchema.optional(),
  // The pool login role's secret (pooled tenants): given with the master's (clusterAdmin).
  POOL_SECRET_ARN: configFields.arn.optional(),
  // Tenant statements go through sessions of this role, tagged with the tenant (tenantData).
  TENANT_ACCESS_ROLE_ARN: configFields.arn.optional(),
});

type Env = Readonly<Record<string, string | undefined>>;

/** No SDK retries: a write whose answer was lost must not be sent again blindly. */
export function awsServices(
  env: Env,
  clients: AwsClients = {},
  /** Adapters the caller makes itself (the local platform's workflow starter, guarded stores). */
  overrides: Partial<Adapters> = {},
): Services {
  let rdsData: Promise<import('@aws-sdk/client-rds-data').RDSDataClient> | undefined;
  const dataApiClient = () => {
    rdsData ??= import('@aws-sdk/client-rds-data').then(
      ({ RDSDataClient }) => new RDSDataClient({ ...clientOptions(clients, 'rdsData'), maxAttempts: 1 }),
    );
    return rdsData;
  };
  const dataApiRunner = (resourceArn: string, secretArn: string, database: string): SqlRunner =>
    lazyPort(async () => {
      const [client, { DataApiSqlRunner }] = await Promise.all([
        dataApiClient(),
        import('#shared/adapters/data-api-sql'),
      ]);
      return new DataApiSqlRunner({ client, resourceArn, secretArn, database });
    });
  /** Sessions of the tenant-access role, made (and STS imported) when a tenant is first reached. */
  const tenantSessions = async (roleArn: string) => {
    const [{ STSClient }, { TenantSessions }] = await Promise.all([
      import('@aws-sdk/client-sts'),
      import('#shared/adapters/tenant-sessions'),
    ]);
    return new TenantSessions({ sts: new STSClient(clientOptions(clients, 'sts')), roleArn });
  };
  return servicesFrom({
    settings: () => {
      const config = loadConfig(
        z.object({
          TENANTRY_STAGE: configFields.stage,
          CONTROL_DATABASE: z.string().default('control'),
          CONTROL_SECRET_ARN: configFields.arn.optional(),
          PLATFORM_GROUPS_REQUIRE_MFA: z.enum(['true', 'false']).optional(),
          TENANT_PLANS: tenantPlansField,
          USER_POOL_ID: configFields.name.optional(),
        }),
        env,
      );
      return {
        stage: config.TENANTRY_STAGE,
        controlDatabase: config.CONTROL_DATABASE,
        platformGroupsRequireMfa: config.PLATFORM_GROUPS_REQUIRE_MFA === 'true',
        plans: config.TENANT_PLANS,
        ...(config.CONTROL_SECRET_ARN ? { controlSecretArn: config.CONTROL_SECRET_ARN } : {}),
        ...(config.USER_POOL_ID ? { userPoolId: config.USER_POOL_ID } : {}),
        ...dataProtectionSettingsOf(env),
      };
    },
    control: () => {
      const config = loadConfig(controlSchema, env);
      return dataApiRunner(config.CLUSTER_ARN, config.CONTROL_SECRET_ARN, config.CONTROL_DATABASE);
    },
    masterControl: () => {
      const config = loadConfig(masterSchema, env);
      return dataApiRunner(config.CLUSTER_ARN, config.CLUSTER_SECRET_ARN, config.CONTROL_DATABASE);
    },
    clusters: () => {
      const config = loadConfig(clusterSchema, env);
      const pool: readonly ClusterEndpoint[] = clusterPoolFrom(config);
      const roleArn = config.TENANT_ACCESS_ROLE_ARN;
      const made = lazyPort<Pick<DatabaseClusters, 'asTenant' | 'release'>>(async () => {
        const [client, { DataApiClusters }, sessions] = await Promise.all([
          dataApiClient(),
          import('#shared/adapters/data-api-clusters'),
          roleArn ? tenantSessions(roleArn) : undefined,
        ]);
        return new DataApiClusters({
          client,
          clusters: pool,
          clientOptions: { ...clientOptions(clients, 'rdsData'), maxAttempts: 1 },
          ...(sessions ? { tenantSessions: sessions } : {}),
        });
      });
      const clusterOf = (clusterId: string) => {
        const cluster = pool.find((c) => c.id === clusterId);
        if (!cluster) throw new UnknownCluster(clusterId);
        return cluster;
      };
      // As DataApiClusters answers them, without importing it for the synchronous questions.
      const clusters: DatabaseClusters = {
        ids: () => pool.map((c) => c.id),
        admin: (clusterId, database = 'postgres') => {
          const cluster = clusterOf(clusterId);
          return dataApiRunner(cluster.resourceArn, masterSecretOf(cluster), database);
        },
        poolSecretOf: (clusterId) => poolSecretOf(clusterOf(clusterId)),
        asTenant: (access) => made.asTenant(access),
        release: (database) => made.release(database),
      };
      return clusters;
    },
    secrets: () =>
      lazyPort(async () => {
        const [{ SecretsManagerClient }, { SecretsManagerStore }] = await Promise.all([
          import('@aws-sdk/client-secrets-manager'),
          import('#shared/adapters/secrets-manager-store'),
        ]);
        return new SecretsManagerStore(new SecretsManagerClient(clientOptions(clients, 'secretsManager')));
      }),
    events: () => busPublisherOf(env, clients),
    telemetry: () => telemetrySinkOf(env, clients),
    identity: () => {
      const { USER_POOL_ID } = loadConfig(z.object({ USER_POOL_ID: configFields.name }), env);
      return lazyPort(async () => {
        const [{ CognitoIdentityProviderClient }, { CognitoIdentityAdmin }] = await Promise.all([
          import('@aws-sdk/client-cognito-identity-provider'),
          import('#shared/adapters/cognito-identity-admin'),
        ]);
        return new CognitoIdentityAdmin(
          new CognitoIdentityProviderClient(clientOptions(clients, 'cognitoIdentityProvider')),
          USER_POOL_ID,
        );
      });
    },
    mfaStatus: () =>
      lazyPort(async () => {
        const [{ CognitoIdentityProviderClient }, { CognitoMfaStatus }] = await Promise.all([
          import('@aws-sdk/client-cognito-identity-provider'),
          import('#shared/adapters/cognito-mfa-status'),
        ]);
        return new CognitoMfaStatus(
          new CognitoIdentityProviderClient(clientOptions(clients, 'cognitoIdentityProvider')),
        );
      }),
    workflows: () => {
      const { PROVISIONING_STATE_MACHINE_ARN } = loadConfig(
        z.object({ PROVISIONING_STATE_MACHINE_ARN: configFields.arn }),
        env,
      );
      return lazyPort(async () => {
        const [{ SFNClient }, { SfnWorkflowStarter }] = await Promise.all([
          import('@aws-sdk/client-sfn'),
          import('#shared/adapters/sfn-workflows'),
        ]);
        return new SfnWorkflowStarter(
          new SFNClient(clientOptions(clients, 'sfn')),
          PROVISIONING_STATE_MACHINE_ARN,
        );
      });
    },
    records: () => recordServicesFrom(env, clients),
    backupStore: () => backupStoreFrom(env, clients),
    limiter: () => {
      const table = env[recordTables.limits.envVar];
      if (!table) return null;
      return lazyPort<TenantLimiter>(async () => {
        const [{ DynamoDBClient }, { DynamoTenantLimiter }] = await Promise.all([
          import('@aws-sdk/client-dynamodb'),
          import('#shared/records/tenant-limits'),
        ]);
        return new DynamoTenantLimiter(new DynamoDBClient(clientOptions(clients, 'dynamodb')), table);
      });
    },
    ...overrides,
  });
}
