import * as z from 'zod';
import { configFields } from '#shared/config';
import { ConfigError } from '#shared/errors';

/**
 * The database clusters of a deployment (issue 18; docs/clusters.md): what the CDK context
 * `clusters` configures, what the control migrator records in the cluster registry, and what the
 * functions that reach tenant databases are told in `CLUSTERS`.
 */

/** The first cluster: the one that holds the control database, and stays so. */
export const PRIMARY_CLUSTER_ID = 'primary';

/**
 * At most this many clusters: every function that reaches tenant data carries each cluster's ARN
 * in its environment (and the provisioning steps each master secret's), which Lambda caps at 4 KB
 * in all (test/infra/clusters.test.ts measures the largest).
 */
export const MAX_CLUSTERS = 8;

/**
 * The capacity a cluster gets when its configuration names none: how many silo databases placement
 * puts on it before it has no headroom left (docs/clusters.md, "Capacity").
 */
export const DEFAULT_CLUSTER_CAPACITY = 500;

/**
 * Lowercase, short: it becomes part of the cluster identifier (`tenantry-<stage>-<id>`, 63
 * characters at most) and of construct ids.
 */
export const CLUSTER_ID_PATTERN = /^[a-z][a-z0-9]{0,11}$/;

export const clusterIdSchema = z
  .string()
  .regex(CLUSTER_ID_PATTERN, 'a cluster id: a lower-case letter, then up to 11 lower-case letters or digits');
export const clusterNameSchema = z.string().trim().min(1).max(64);
export const clusterCapacitySchema = z.number().int().min(0).max(100_000);

export const CLUSTER_STATES = ['open', 'draining', 'closed'] as const;
export type ClusterState = (typeof CLUSTER_STATES)[number];

/** One configured cluster, as the registry records it. */
export const clusterSettingSchema = z.strictObject({
  id: clusterIdSchema,
  name: clusterNameSchema.optional(),
  capacity: clusterCapacitySchema.optional(),
});

export interface ClusterSetting {
  readonly id: string;
  readonly name: string;
  readonly capacity: number;
}

/** `-c clusters=3` names them `primary`, `c2`, `c3`. */
export const clusterIdAt = (index: number) => (index === 0 ? PRIMARY_CLUSTER_ID : `c${index + 1}`);

/**
 * The context value: a count (`2`, or `"2"` from the command line) or a list. The first cluster
 * must be `primary`: it holds the control database, and an existing deployment's cluster is it.
 */
export const clustersContextSchema = z
  .union([z.number().int().min(1).max(MAX_CLUSTERS), z.array(clusterSettingSchema).min(1).max(MAX_CLUSTERS)])
  .transform((value): ClusterSetting[] => {
    const list: readonly z.infer<typeof clusterSettingSchema>[] =
      typeof value === 'number' ? Array.from({ length: value }, (_, i) => ({ id: clusterIdAt(i) })) : value;
    return list.map((c) => ({
      id: c.id,
      name: c.name ?? c.id,
      capacity: c.capacity ?? DEFAULT_CLUSTER_CAPACITY,
    }));
  })
  .refine((list) => list[0]?.id === PRIMARY_CLUSTER_ID, { message: 'the first cluster must be "primary"' })
  .refine((list) => new Set(list.map((c) => c.id)).size === list.length, { message: 'each cluster id once' });

/**
 * `CLUSTERS`: each cluster's Data API resource ARN by id, as the CDK app sets it for the functions
 * that reach tenant databases (compact: the 4 KB environment).
 */
export const clustersEnvSchema = configFields.jsonText.pipe(z.record(clusterIdSchema, configFields.arn));

/** One cluster as a function reaches it. */
export interface ClusterEndpoint {
  readonly id: string;
  readonly resourceArn: string;
  /** Only for the functions that create and drop roles and databases (`clusterAdmin`). */
  readonly masterSecretArn?: string;
  /** The pool login role's secret: one for every cluster (the role has the same password on each). */
  readonly poolSecretArn?: string;
}

/** The cluster's master secret, or a ConfigError: this function was not given it (not `clusterAdmin`). */
export function masterSecretOf(cluster: ClusterEndpoint): string {
  if (!cluster.masterSecretArn) {
    throw new ConfigError('Invalid configuration: CLUSTER_SECRET_ARN: missing', ['CLUSTER_SECRET_ARN']);
  }
  return cluster.masterSecretArn;
}

/** The pool login role's secret, or a ConfigError: this function was not given it (not `clusterAdmin`). */
export function poolSecretOf(cluster: ClusterEndpoint): string {
  if (!cluster.poolSecretArn) {
    throw new ConfigError('Invalid configuration: POOL_SECRET_ARN: missing', ['POOL_SECRET_ARN']);
  }
  return cluster.poolSecretArn;
}

/**
 * The clusters a function can reach, from its configuration: `CLUSTERS` (and `CLUSTER_SECRET_ARNS`)
 * as the CDK app sets them, or — a function configured before there were several — the one
 * `CLUSTER_ARN` (and `CLUSTER_SECRET_ARN`) as `primary`. The control cluster is always `primary`.
 */
export function clusterPoolFrom(config: {
  readonly CLUSTER_ARN: string;
  readonly CLUSTER_SECRET_ARN?: string | undefined;
  readonly CLUSTERS?: Readonly<Record<string, string>> | undefined;
  readonly CLUSTER_SECRET_ARNS?: Readonly<Record<string, string>> | undefined;
  readonly POOL_SECRET_ARN?: string | undefined;
}): ClusterEndpoint[] {
  const arns = config.CLUSTERS ?? { [PRIMARY_CLUSTER_ID]: config.CLUSTER_ARN };
  const secrets =
    config.CLUSTER_SECRET_ARNS ??
    (config.CLUSTER_SECRET_ARN ? { [PRIMARY_CLUSTER_ID]: config.CLUSTER_SECRET_ARN } : {});
  return Object.entries(arns).map(([id, resourceArn]) => {
    const masterSecretArn = secrets[id];
    return {
      id,
      resourceArn,
      ...(masterSecretArn ? { masterSecretArn } : {}),
      ...(config.POOL_SECRET_ARN ? { poolSecretArn: config.POOL_SECRET_ARN } : {}),
    };
  });
}

/**
 * The clusters as the control migrator's custom resource is given them (`clusters`, JSON: a
 * custom resource's properties reach the handler as strings), validated as the context was.
 * Without it (a resource made before the registry), the one cluster `primary`.
 */
export const clusterRegistryPropertySchema = z
  .string()
  .optional()
  .transform((text, ctx): unknown => {
    if (text === undefined) return [{ id: PRIMARY_CLUSTER_ID }];
    try {
      return JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'the clusters property is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(clustersContextSchema);
