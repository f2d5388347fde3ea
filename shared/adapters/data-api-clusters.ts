import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import { DataApiSqlRunner } from '#shared/adapters/data-api-sql';
import { type DatabaseClusters, UnknownCluster } from '#shared/ports/clusters';
import type { SqlRunner } from '#shared/ports/sql';

export interface ClusterConfig {
  readonly id: string;
  readonly resourceArn: string;
  /** The master secret: used for `admin` only. */
  readonly masterSecretArn: string;
}

/**
 * Clusters through the RDS Data API: every call names the cluster, the database and the secret,
 * so a tenant's statements carry the tenant's own secret and run as its role.
 */
export class DataApiClusters implements DatabaseClusters {
  readonly #byId: Map<string, ClusterConfig>;

  constructor(
    private readonly client: RDSDataClient,
    clusters: readonly ClusterConfig[],
  ) {
    this.#byId = new Map(clusters.map((c) => [c.id, c]));
  }

  ids(): readonly string[] {
    return [...this.#byId.keys()];
  }

  #cluster(clusterId: string): ClusterConfig {
    const cluster = this.#byId.get(clusterId);
    if (!cluster) throw new UnknownCluster(clusterId);
    return cluster;
  }

  admin(clusterId: string): SqlRunner {
    const cluster = this.#cluster(clusterId);
    return new DataApiSqlRunner({
      client: this.client,
      resourceArn: cluster.resourceArn,
      secretArn: cluster.masterSecretArn,
      database: 'postgres',
    });
  }

  async asTenant(clusterId: string, database: string, secretArn: string): Promise<SqlRunner> {
    const cluster = this.#cluster(clusterId);
    return new DataApiSqlRunner({
      client: this.client,
      resourceArn: cluster.resourceArn,
      secretArn,
      database,
    });
  }

  async release(): Promise<void> {
    // The Data API keeps no connections of ours.
  }
}
