import type { ClusterRegistry, ClusterWithLoad } from '#shared/control/cluster-registry';
import type { TenantRecord } from '#shared/control/control-records';
import type { TenantRepository } from '#shared/control/tenant-repository';
import type { ClusterState } from '#shared/domain/clusters';
import { ClusterClosed, NotFound } from '#shared/errors';

/** The platform admins' cluster operations (docs/clusters.md): the registry and the pins. */
export interface ClusterAdminDeps {
  readonly clusterRegistry: ClusterRegistry;
  readonly tenants: Pick<TenantRepository, 'get' | 'pin'>;
}

/** Changes a cluster's state and/or capacity; the cluster with what it holds. */
export async function changeCluster(
  deps: ClusterAdminDeps,
  clusterId: string,
  change: { readonly state?: ClusterState | undefined; readonly capacity?: number | undefined },
): Promise<ClusterWithLoad> {
  await deps.clusterRegistry.update(clusterId, change);
  const cluster = (await deps.clusterRegistry.withLoad()).find((c) => c.id === clusterId);
  if (!cluster) throw new NotFound('Cluster not found');
  return cluster;
}

/**
 * Pins a tenant's future databases to a cluster, or unpins it (null): 404 for an unknown or
 * deleted tenant or an unknown cluster, 409 `cluster_closed` for a closed one. Its existing
 * databases stay where they are (moving them is a move's job).
 */
export async function pinTenant(
  deps: ClusterAdminDeps,
  tenantId: string,
  clusterId: string | null,
): Promise<TenantRecord> {
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant || tenant.status === 'deleted') throw new NotFound('Tenant not found');
  if (clusterId !== null) {
    const cluster = await deps.clusterRegistry.existing(clusterId);
    if (cluster.state === 'closed') throw new ClusterClosed(`Cluster ${clusterId} is closed`);
  }
  const pinned = await deps.tenants.pin(tenantId, clusterId);
  // Closed (or the tenant deleted) between the reads and the update: the update decided.
  if (!pinned) throw new ClusterClosed(`Cluster ${clusterId} is closed`);
  return pinned;
}
