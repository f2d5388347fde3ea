import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import * as z from 'zod';
import type { AwsClientConfig } from '#shared/adapters/aws-client-config';
import { busPublisherFromEnv } from '#shared/adapters/bus-publisher';
import { CognitoIdentityAdmin } from '#shared/adapters/cognito-identity-admin';
import { DataApiClusters } from '#shared/adapters/data-api-clusters';
import { DataApiSqlRunner } from '#shared/adapters/data-api-sql';
import { SecretsManagerStore } from '#shared/adapters/secrets-manager-store';
import { SfnWorkflowStarter } from '#shared/adapters/sfn-workflows';
import { TenantSessions } from '#shared/adapters/tenant-sessions';
import { type Adapters, type Services, servicesFrom } from '#shared/composition/services';
import { telemetrySinkFromEnv } from '#shared/composition/telemetry-sink';
import { configFields, loadConfig } from '#shared/config';

/**
 * The AWS adapters, each configured from the function's environment on first use: a function
 * that never touches the control database needs no cluster variables.
 */
const controlSchema = z.object({
  CLUSTER_ARN: configFields.arn,
  // The control database's application role (tenantry_app), never the master.
  CONTROL_SECRET_ARN: configFields.arn,
  CONTROL_DATABASE: z.string().default('control'),
});
const clusterSchema = z.object({
  CLUSTER_ARN: configFields.arn,
  // The master: only the functions that create and drop roles and databases have it.
  CLUSTER_SECRET_ARN: configFields.arn.optional(),
  // Tenant statements go through sessions of this role, tagged with the tenant.
  TENANT_ACCESS_ROLE_ARN: configFields.arn.optional(),
});

/** No SDK retries: a write whose answer was lost must not be sent again blindly. */
export function createAwsServices(
  env: Record<string, string | undefined> = process.env,
  aws: AwsClientConfig = {},
  /** Adapters the caller makes itself (the local platform's workflow starter). */
  overrides: Partial<Adapters> = {},
): Services {
  const dataApiClient = () => new RDSDataClient({ ...aws, maxAttempts: 1 });
  return servicesFrom({
    settings: () => {
      const config = loadConfig(
        z.object({ TENANTRY_STAGE: configFields.stage, CONTROL_DATABASE: z.string().default('control') }),
        env,
      );
      return { stage: config.TENANTRY_STAGE, controlDatabase: config.CONTROL_DATABASE };
    },
    control: () => {
      const config = loadConfig(controlSchema, env);
      return new DataApiSqlRunner({
        client: dataApiClient(),
        resourceArn: config.CLUSTER_ARN,
        secretArn: config.CONTROL_SECRET_ARN,
        database: config.CONTROL_DATABASE,
      });
    },
    masterControl: () => {
      const config = loadConfig(
        z.object({
          CLUSTER_ARN: configFields.arn,
          CLUSTER_SECRET_ARN: configFields.arn,
          CONTROL_DATABASE: z.string().default('control'),
        }),
        env,
      );
      return new DataApiSqlRunner({
        client: dataApiClient(),
        resourceArn: config.CLUSTER_ARN,
        secretArn: config.CLUSTER_SECRET_ARN,
        database: config.CONTROL_DATABASE,
      });
    },
    // One cluster in the pool today; placement already chooses among several.
    clusters: () => {
      const config = loadConfig(clusterSchema, env);
      const roleArn = config.TENANT_ACCESS_ROLE_ARN;
      return new DataApiClusters({
        client: dataApiClient(),
        clusters: [
          {
            id: 'primary',
            resourceArn: config.CLUSTER_ARN,
            ...(config.CLUSTER_SECRET_ARN ? { masterSecretArn: config.CLUSTER_SECRET_ARN } : {}),
          },
        ],
        clientOptions: { ...aws, maxAttempts: 1 },
        ...(roleArn
          ? { tenantSessions: new TenantSessions({ sts: new STSClient({ ...aws }), roleArn }) }
          : {}),
      });
    },
    secrets: () => new SecretsManagerStore(new SecretsManagerClient({ ...aws })),
    events: () => busPublisherFromEnv(env, aws),
    telemetry: () => telemetrySinkFromEnv(env, aws),
    identity: () => {
      const config = loadConfig(z.object({ USER_POOL_ID: configFields.name }), env);
      return new CognitoIdentityAdmin(new CognitoIdentityProviderClient({ ...aws }), config.USER_POOL_ID);
    },
    workflows: () => {
      const config = loadConfig(z.object({ PROVISIONING_STATE_MACHINE_ARN: configFields.arn }), env);
      return new SfnWorkflowStarter(new SFNClient({ ...aws }), config.PROVISIONING_STATE_MACHINE_ARN);
    },
    ...overrides,
  });
}
