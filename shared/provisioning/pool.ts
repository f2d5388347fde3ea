import type { TenantDatabaseRecord } from '#shared/control/database-registry';
import type { DatabaseClusters } from '#shared/ports/clusters';
import {
  asMemberOf,
  createDatabaseOnce,
  dropAsOwner,
  lockClusterDdl,
} from '#shared/provisioning/cluster-ddl';
import { POOL_APP_USER, POOL_DATABASE, quoteIdentifier } from '#shared/provisioning/names';

/*
 * The pooled tier's objects on a cluster (docs/isolation-modes.md), made as the master:
 * - once per cluster (the control migrator, on every deploy): the pool login role, its password
 *   from the pool secret, NOINHERIT; the pool database, which PUBLIC may neither connect to nor
 *   create temporary tables in, and whose `public` schema PUBLIC may not use;
 * - per pooled tenant database (the provisioning saga): the tenant's NOLOGIN role, granted to the
 *   pool login role `WITH INHERIT FALSE, SET TRUE` (it may switch to it, and has none of its
 *   privileges otherwise), and the database's schema, owned by that role.
 */

export interface PoolLogin {
  readonly username: string;
  /** A SQL string literal (passwordLiteral): DDL takes no bind parameters. */
  readonly passwordLiteral: string;
}

/** The pool login role and the pool database on one cluster; idempotent. */
export async function ensurePool(
  clusters: Pick<DatabaseClusters, 'admin'>,
  clusterId: string,
  login: PoolLogin,
): Promise<void> {
  if (login.username !== POOL_APP_USER) {
    throw new Error(`The pool secret is for ${login.username}, not ${POOL_APP_USER}`);
  }
  const admin = clusters.admin(clusterId);
  const role = quoteIdentifier(POOL_APP_USER);
  const database = quoteIdentifier(POOL_DATABASE);
  await admin.transaction(async (tx) => {
    await lockClusterDdl(tx);
    const exists = await tx.query('select 1 from pg_roles where rolname = :name', { name: POOL_APP_USER });
    if (exists.length === 0)
      await tx.execute(`create role ${role} login noinherit password ${login.passwordLiteral}`);
    // Keeps the password the secret's (a rotated secret takes effect on the next deploy).
    await tx.execute(
      `alter role ${role} with login noinherit nocreatedb nocreaterole password ${login.passwordLiteral}`,
    );
  });
  // The master owns it.
  await createDatabaseOnce(admin, POOL_DATABASE, `create database ${database}`);
  await admin.transaction(async (tx) => {
    await lockClusterDdl(tx);
    await tx.execute(`revoke all on database ${database} from public`);
    await tx.execute(`grant connect on database ${database} to ${role}`);
  });
  await clusters.admin(clusterId, POOL_DATABASE).execute('revoke all on schema public from public');
}

/** Bumped when `ensurePool` changes: the migrator's custom resource runs again on the next deploy. */
export const POOL_SETUP_VERSION = '1';

/** A pooled database placed on its cluster. */
export type PooledRecord = TenantDatabaseRecord & { readonly clusterId: string; readonly schemaName: string };

/**
 * A pooled database's tenant role and schema; idempotent. The schema is made with the master a
 * member of the role for the while (asMemberOf): creating a schema for another role needs it
 * ("must be able to SET ROLE" to the owner).
 */
export async function createPooledSchema(
  clusters: Pick<DatabaseClusters, 'admin'>,
  record: PooledRecord,
  /** A move keeps the role's LOGIN while the tenant's silo database is still being read. */
  options: { readonly keepLogin?: boolean } = {},
): Promise<void> {
  const admin = clusters.admin(record.clusterId);
  const role = quoteIdentifier(record.roleName);
  await admin.transaction(async (tx) => {
    await lockClusterDdl(tx);
    const exists = await tx.query('select 1 from pg_roles where rolname = :role', { role: record.roleName });
    if (exists.length === 0) await tx.execute(`create role ${role} nologin`);
    else if (!options.keepLogin) await tx.execute(`alter role ${role} with nologin nocreatedb nocreaterole`);
    // PostgreSQL 16+: the login role may SET ROLE to it, and has none of its privileges unless it does.
    await tx.execute(`grant ${role} to ${quoteIdentifier(POOL_APP_USER)} with inherit false, set true`);
  });
  const schema = quoteIdentifier(record.schemaName);
  await asMemberOf(admin, role, () =>
    clusters
      .admin(record.clusterId, POOL_DATABASE)
      .execute(`create schema if not exists ${schema} authorization ${role}`),
  );
}

/** Drops a pooled database's schema and everything in it; the tenant's role stays for its others. */
export async function dropPooledSchema(
  clusters: Pick<DatabaseClusters, 'admin'>,
  record: PooledRecord,
): Promise<void> {
  const admin = clusters.admin(record.clusterId);
  const drop = () =>
    clusters
      .admin(record.clusterId, POOL_DATABASE)
      .execute(`drop schema if exists ${quoteIdentifier(record.schemaName)} cascade`);
  await dropAsOwner(admin, record.roleName, drop);
}
