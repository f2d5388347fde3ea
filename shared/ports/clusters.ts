import type { SqlRunner } from '#shared/ports/sql';

/** Which tenant database to open, and whose: the tenant id scopes the credentials of the call. */
export interface TenantDatabaseAccess {
  readonly clusterId: string;
  readonly database: string;
  readonly secretArn: string;
  /** From the verified, membership-checked context, never from the client. */
  readonly tenantId: string;
}

/**
 * The database clusters tenants are placed on. `admin` speaks as the cluster's master role to its
 * `postgres` database (roles and databases are made with it, nothing else); `asTenant` speaks as a
 * tenant's own role, with the credentials in its secret, to one of its databases — in AWS through
 * a session of the tenant-access role tagged with that tenant, which can read no other secret.
 */
export interface DatabaseClusters {
  /** The configured pool of clusters, by id. */
  ids(): readonly string[];
  admin(clusterId: string): SqlRunner;
  asTenant(access: TenantDatabaseAccess): Promise<SqlRunner>;
  /** Lets go of any connections kept to a database that is about to be dropped. */
  release(database: string): Promise<void>;
}

export class UnknownCluster extends Error {
  constructor(clusterId: string) {
    super(`No cluster ${clusterId} in the configured pool`);
    this.name = 'UnknownCluster';
  }
}
