import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { DataApiSqlRunner } from '#shared/adapters/data-api-sql';
import type { TenantSessions } from '#shared/adapters/tenant-sessions';
import { type ClusterEndpoint, masterSecretOf, poolSecretOf } from '#shared/domain/clusters';
import { type DatabaseClusters, type TenantDatabaseAccess, UnknownCluster } from '#shared/ports/clusters';
import type { SqlRunner } from '#shared/ports/sql';

/** One cluster as the adapter reaches it (its master and pool secrets only where the function has them). */
export type ClusterConfig = ClusterEndpoint;

export interface DataApiClustersOptions {
  /** The function's own client (its role's credentials): `admin` calls. */
  readonly client: RDSDataClient;
  readonly clusters: readonly ClusterConfig[];
  /**
   * Sessions of the tenant-access role: a tenant's statements are sent with its own session's
   * credentials, through a client per tenant.
   * @default - tenant statements are sent with the function's own credentials
   */
  readonly tenantSessions?: TenantSessions;
  /** The options of each tenant's client (region, endpoint, retries) besides its credentials. */
  readonly clientOptions?: ConstructorParameters<typeof RDSDataClient>[0];
  /** How many tenants' clients a warm function keeps. @default 256 */
  readonly maxTenantClients?: number;
}

/**
 * Clusters through the RDS Data API: every call names the cluster, the database and the secret,
 * so a tenant's statements carry the tenant's own secret and run as its role. The Data API reads
 * that secret with the caller's credentials: with a tenant session, only the tenant's own.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html
 */
export class DataApiClusters implements DatabaseClusters {
  readonly #byId: Map<string, ClusterConfig>;
  readonly #options: DataApiClustersOptions;
  /** In least-recently-used order. */
  readonly #tenantClients = new Map<string, RDSDataClient>();

  constructor(options: DataApiClustersOptions) {
    this.#options = options;
    this.#byId = new Map(options.clusters.map((c) => [c.id, c]));
  }

  ids(): readonly string[] {
    return [...this.#byId.keys()];
  }

  #cluster(clusterId: string): ClusterConfig {
    const cluster = this.#byId.get(clusterId);
    if (!cluster) throw new UnknownCluster(clusterId);
    return cluster;
  }

  admin(clusterId: string, database = 'postgres'): SqlRunner {
    const cluster = this.#cluster(clusterId);
    return new DataApiSqlRunner({
      client: this.#options.client,
      resourceArn: cluster.resourceArn,
      secretArn: masterSecretOf(cluster),
      database,
    });
  }

  poolSecretOf(clusterId: string): string {
    return poolSecretOf(this.#cluster(clusterId));
  }

  async asTenant(access: TenantDatabaseAccess): Promise<SqlRunner> {
    const cluster = this.#cluster(access.clusterId);
    return new DataApiSqlRunner({
      client: this.#clientOf(access.tenantId),
      resourceArn: cluster.resourceArn,
      secretArn: access.secretArn,
      database: access.database,
    });
  }

  #clientOf(tenantId: string): RDSDataClient {
    const sessions = this.#options.tenantSessions;
    if (!sessions) return this.#options.client;
    let client = this.#tenantClients.get(tenantId);
    if (client) {
      this.#tenantClients.delete(tenantId);
    } else {
      // The SDK asks the provider again when the credentials it holds near their expiration.
      client = new RDSDataClient({
        ...this.#options.clientOptions,
        credentials: () => sessions.credentialsFor(tenantId),
      });
    }
    this.#tenantClients.set(tenantId, client);
    while (this.#tenantClients.size > (this.#options.maxTenantClients ?? 256)) {
      // Not destroyed: a request may still be using it; its idle sockets close on their own.
      const oldest = this.#tenantClients.keys().next().value;
      if (oldest === undefined) break;
      this.#tenantClients.delete(oldest);
    }
    return client;
  }

  async release(): Promise<void> {
    // The Data API keeps no connections of ours.
  }
}
