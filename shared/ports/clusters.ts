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
 * The database clusters tenants are placed on. `admin` speaks as the cluster's master role (roles,
 * databases and pooled schemas are made with it, nothing else); `asTenant` speaks with the
 * credentials in a tenant database's secret (the tenant's own role; for a pooled database, the
 * pool's login role) to that database — in AWS through
 * a session of the tenant-access role tagged with that tenant, which can read no other secret.
 */
export interface DatabaseClusters {
  /** The configured pool of clusters, by id. */
  ids(): readonly string[];
  /**
   * As the master, to `postgres` (roles and databases) or to `database` (the pool database, whose
   * schemas the master makes and drops for the pooled tenants).
   */
  admin(clusterId: string, database?: string): SqlRunner;
  /**
   * The pool login role's secret on `clusterId`: what a pooled database's statements are sent
   * with (docs/isolation-modes.md). Only the functions that act as the master are given it.
   */
  poolSecretOf(clusterId: string): string;
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
