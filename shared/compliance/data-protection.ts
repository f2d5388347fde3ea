import * as z from 'zod';
import { configFields, loadConfig } from '#shared/config';
import { clusterIdSchema } from '#shared/domain/clusters';

/** One cluster's storage as the deployment configures it (the `dataProtection` need). */
export interface ClusterStorage {
  readonly region: string;
  /** `aurora-postgresql` in AWS; the local platform names its embedded engine. */
  readonly engine: string;
  /** `StorageEncrypted` of the cluster's template: encryption at rest. */
  readonly encrypted: boolean;
}

const clusterStorageSchema = z.strictObject({
  region: configFields.name,
  engine: configFields.name,
  encrypted: z.boolean(),
});

/** `CLUSTER_STORAGE`: each cluster's storage by cluster id, one JSON object. */
export const clusterStorageEnvSchema = configFields.jsonText.pipe(
  z.record(clusterIdSchema, clusterStorageSchema),
);

export interface DataProtectionSettings {
  readonly clusters: Readonly<Record<string, ClusterStorage>>;
  readonly auditRetentionDays: number;
}

/**
 * The `dataProtection` need's configuration, validated: a function that declares it and lacks
 * either variable fails with a ConfigError naming it (never a report that guesses).
 */
export function dataProtectionFrom(
  env: Readonly<Record<string, string | undefined>>,
): DataProtectionSettings {
  const config = loadConfig(
    z.object({
      CLUSTER_STORAGE: clusterStorageEnvSchema,
      // Required here (the consumers default it): the report states what was configured.
      AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650),
    }),
    env,
  );
  return { clusters: config.CLUSTER_STORAGE, auditRetentionDays: config.AUDIT_RETENTION_DAYS };
}

/** `{ dataProtection }` for a function whose configuration has `CLUSTER_STORAGE`; `{}` for any other. */
export function dataProtectionSettingsOf(env: Readonly<Record<string, string | undefined>>): {
  dataProtection?: DataProtectionSettings;
} {
  return env.CLUSTER_STORAGE === undefined ? {} : { dataProtection: dataProtectionFrom(env) };
}
