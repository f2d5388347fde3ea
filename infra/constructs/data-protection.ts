import { Stack } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';
import type { TenantryFunction } from '#infra/constructs/tenantry-function';
import type { ClusterStorage } from '#shared/compliance/data-protection';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '#shared/composition/record-services';

/**
 * What the cluster's template says of its storage: `StorageEncrypted` and `Engine` of its
 * `AWS::RDS::DBCluster` (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-rds-dbcluster.html),
 * read from the synthesized resource rather than restated, so the report follows the stack.
 * The region is the function's: the app deploys every stack of a stage into one region.
 */
function clusterStorageOf(fn: TenantryFunction, cluster: rds.DatabaseCluster): ClusterStorage {
  const resource = cluster.node.defaultChild;
  if (!(resource instanceof rds.CfnDBCluster) || resource.engine === undefined) {
    throw new Error('The cluster has no AWS::RDS::DBCluster with an engine');
  }
  return {
    region: Stack.of(fn).region,
    engine: resource.engine,
    encrypted: resource.storageEncrypted === true,
  };
}

/**
 * The `dataProtection` need: configuration only, no IAM. `CLUSTER_STORAGE` (each cluster's
 * region, engine and encryption at rest, one JSON object resolved by CloudFormation) and
 * `AUDIT_RETENTION_DAYS` (the number the audit consumer is given), for the compliance report.
 */
export function grantDataProtection(
  fn: TenantryFunction,
  clusters: readonly { readonly id: string; readonly cluster: rds.DatabaseCluster }[],
  auditRetentionDays: number | undefined,
): void {
  fn.addEnvironment(
    'CLUSTER_STORAGE',
    Stack.of(fn).toJsonString(
      Object.fromEntries(clusters.map((c) => [c.id, clusterStorageOf(fn, c.cluster)])),
    ),
  );
  fn.addEnvironment('AUDIT_RETENTION_DAYS', String(auditRetentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS));
}
