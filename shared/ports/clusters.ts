import type { SqlRunner } from '#shared/ports/sql';

/**
 * The database clusters tenants are placed on. `admin` speaks as the cluster's master role to its
 * `postgres` database (roles and databases are made with it, nothing else); `asTenant` speaks as a
 * tenant's own role, with the credentials in its secret, to one of its databases.
 */
export interface DatabaseClusters {
  /** The configured pool of clusters, by id. */
  ids(): readonly string[];
  admin(clusterId: string): SqlRunner;
  asTenant(clusterId: string, database: string, secretArn: string): Promise<SqlRunner>;
  /** Lets go of any connections kept to a database that is about to be dropped. */
  release(database: string): Promise<void>;
}

export class UnknownCluster extends Error {
  constructor(clusterId: string) {
    super(`No cluster ${clusterId} in the configured pool`);
    this.name = 'UnknownCluster';
  }
}
