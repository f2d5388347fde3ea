import { type SqlRunner, sqlFailureOf } from '#shared/ports/sql';
import { quoteIdentifier } from '#shared/provisioning/names';

/*
 * Role, grant, database and schema changes on a cluster, as its master: shared by the silo steps
 * (shared/provisioning/saga.ts) and the pooled ones (shared/provisioning/pool.ts).
 */

/** Serialises role and grant changes on a cluster: the catalog refuses concurrent updates of a row. */
const CLUSTER_DDL_LOCK = 7_262_902;

/** Takes the cluster's DDL lock for the rest of the transaction `tx` (concurrent tenants take turns, a few ms). */
export function lockClusterDdl(tx: SqlRunner): Promise<unknown> {
  return tx.query('select 1 as locked from pg_advisory_xact_lock(:key)', { key: CLUSTER_DDL_LOCK });
}

export function isAlreadyExists(error: unknown): boolean {
  const sqlState = sqlFailureOf(error)?.sqlState;
  const message = error instanceof Error ? error.message : '';
  return sqlState === '42710' || sqlState === '42P04' || /already exists/.test(message);
}

/**
 * Runs `work` with the master a member of the tenant's role (`role`, quoted), and takes the
 * membership back afterwards, even when `work` fails: creating a database owned by the role, or
 * dropping one, needs it (PostgreSQL 16: the owner's privileges, which only a member with INHERIT
 * has), and outside these steps the master must not be able to act as any tenant. What remains
 * is the ADMIN option PostgreSQL 16 gives a role's creator, which lets the master grant and drop
 * the role but neither SET ROLE to it nor use its privileges.
 * https://www.postgresql.org/docs/16/sql-createrole.html
 * https://www.postgresql.org/docs/16/sql-createdatabase.html
 */
export async function asMemberOf(
  admin: SqlRunner,
  role: string,
  work: () => Promise<unknown>,
): Promise<void> {
  const grant = (statement: string) =>
    admin.transaction(async (tx) => {
      // Role and grant changes touch shared catalog rows: concurrent tenants take turns (a few ms).
      await lockClusterDdl(tx);
      await tx.execute(statement);
    });
  await grant(`grant ${role} to current_user`);
  try {
    await work();
  } finally {
    await grant(`revoke ${role} from current_user`);
  }
}

/** Makes a database unless it exists (CREATE DATABASE cannot run inside a transaction). */
export async function createDatabaseOnce(admin: SqlRunner, name: string, statement: string): Promise<void> {
  const exists = await admin.query('select 1 from pg_database where datname = :name', { name });
  if (exists.length > 0) return;
  try {
    await admin.execute(statement);
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
}

/**
 * Runs `drop` as a member of the role `roleName` (only an owner may drop what it owns), or as the
 * master alone when the role was never made (it owns nothing then).
 */
export async function dropAsOwner(
  admin: SqlRunner,
  roleName: string,
  drop: () => Promise<unknown>,
): Promise<void> {
  const roleExists = await admin.query('select 1 from pg_roles where rolname = :role', { role: roleName });
  if (roleExists.length === 0) await drop();
  else await asMemberOf(admin, quoteIdentifier(roleName), drop);
}
