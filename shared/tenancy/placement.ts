import type { ClusterWithLoad } from '#shared/control/cluster-registry';

/**
 * Where a new tenant database goes (issue 18; docs/clusters.md, "Placement"). Pluggable: the saga's
 * placement step asks a `PlacementPolicy`, and `headroomPlacement` is the default one.
 */

/** What a policy chooses from. */
export interface PlacementRequest {
  /**
   * Every registered cluster with its state, capacity and what it holds now. The registry is
   * synced from the configuration on deploy, and a cluster no longer configured is `closed`: what
   * is open here, the functions that make databases can reach.
   */
  readonly clusters: readonly ClusterWithLoad[];
  /** The tenant's pin (`PUT /tenants/{tenantId}/placement`), or null. */
  readonly pinnedClusterId: string | null;
}

export interface PlacementPolicy {
  /** The cluster's id; throws `PlacementRefused` when there is none to give. */
  choose(request: PlacementRequest): string;
}

/**
 * No cluster may take the database: the provisioning step fails with this (it is not retried, and
 * the saga compensates), and its message says why.
 */
export class PlacementRefused extends Error {
  override readonly name = 'PlacementRefused';
}

/**
 * How much of a cluster's capacity a pooled database takes, against 1 for a silo database. A
 * pooled tenant is a schema in the cluster's one pool database, reached through the pool login
 * role's connections: it brings no database of its own (no catalog, no autovacuum worker share of
 * its own, no connections kept per database), only its rows and its statements. A tenth is a
 * deliberate, conservative guess until the pooled tier's measurements (issue 18, "Measured") give
 * a better one; it only ranks clusters, it does not refuse anything by itself.
 */
export const POOL_DATABASE_LOAD = 0.1;

/** The load a cluster carries, in silo-database units. */
export function loadOf(cluster: Pick<ClusterWithLoad, 'databases' | 'poolDatabases'>): number {
  return cluster.databases + cluster.poolDatabases * POOL_DATABASE_LOAD;
}

/** What is left of a cluster's capacity. */
export function headroomOf(cluster: ClusterWithLoad): number {
  return cluster.capacity - loadOf(cluster);
}

/**
 * The default policy:
 * - a pinned tenant's database goes to its pin, open or draining (a pin is an admin's explicit
 *   choice; draining only stops the automatic placement), never to a closed one (refused);
 * - otherwise to the open cluster with the most headroom (capacity − load); ties go to the cluster
 *   listed first (`primary`, then by id), so that placement is deterministic;
 * - draining and closed clusters get nothing new, and a cluster without headroom left gets
 *   nothing either: with none open and with room, the placement is refused.
 */
export const headroomPlacement: PlacementPolicy = {
  choose({ clusters, pinnedClusterId }) {
    if (pinnedClusterId !== null) {
      const pinned = clusters.find((c) => c.id === pinnedClusterId);
      if (!pinned) {
        throw new PlacementRefused(
          `The tenant is pinned to cluster ${pinnedClusterId}, which is not registered`,
        );
      }
      if (pinned.state === 'closed') {
        throw new PlacementRefused(`The tenant is pinned to cluster ${pinnedClusterId}, which is closed`);
      }
      return pinned.id;
    }
    let best: ClusterWithLoad | undefined;
    for (const cluster of clusters) {
      if (cluster.state !== 'open' || headroomOf(cluster) <= 0) continue;
      if (!best || headroomOf(cluster) > headroomOf(best)) best = cluster;
    }
    if (!best) {
      throw new PlacementRefused(
        clusters.some((c) => c.state === 'open')
          ? 'Every open cluster is at its capacity'
          : 'No cluster is open for new databases',
      );
    }
    return best.id;
  },
};
