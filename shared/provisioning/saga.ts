import { randomBytes } from 'node:crypto';
import type { ClusterRegistry } from '#shared/control/cluster-registry';
import type { DatabaseRegistry, TenantDatabaseRecord } from '#shared/control/database-registry';
import type { MembershipRepository } from '#shared/control/membership-repository';
import type { TenantHierarchy } from '#shared/control/tenant-hierarchy';
import type { TenantRepository } from '#shared/control/tenant-repository';
import { tenantSqlOf } from '#shared/data/tenant-database';
import { TenantProvisioned, TenantProvisioningFailed } from '#shared/events/events';
import type { ModuleRegistry } from '#shared/modules/registry';
import type { DatabaseClusters } from '#shared/ports/clusters';
import { type EventPublisher, type OutgoingEvent, outgoing } from '#shared/ports/event-publisher';
import { SecretAlreadyExists, type SecretStore } from '#shared/ports/secrets';
import { type SqlRunner, sqlFailureOf } from '#shared/ports/sql';
import {
  asMemberOf,
  createDatabaseOnce,
  dropAsOwner,
  lockClusterDdl,
} from '#shared/provisioning/cluster-ddl';
import { quoteIdentifier, roleNameFor, secretNameFor, TENANT_TAG } from '#shared/provisioning/names';
import { createPooledSchema, dropPooledSchema } from '#shared/provisioning/pool';
import { headroomPlacement, type PlacementPolicy } from '#shared/tenancy/placement';
import { DATABASE_RESUMING } from '#shared/workflows/provisioning';

export interface SagaDeps {
  readonly tenants: TenantRepository;
  readonly memberships: MembershipRepository;
  readonly databases: DatabaseRegistry;
  /** Offboarding plans a subtree, and never offboards a tenant whose children remain. */
  readonly hierarchy: TenantHierarchy;
  readonly clusters: DatabaseClusters;
  /** The registered clusters' states, capacities and loads: what placement chooses from. */
  readonly clusterRegistry: ClusterRegistry;
  /** @default headroomPlacement */
  readonly placement?: PlacementPolicy;
  readonly secrets: SecretStore;
  readonly stage: string;
  /** The control database's name: no tenant role may connect to it. */
  readonly controlDatabase: string;
  /** Tells this process's access cache that a tenant's state changed (other processes wait ≤ 30 s). */
  readonly tenantChanged?: (tenantId: string) => void;
  /** Lifecycle events go on the bus; a step whose event was refused fails, and is retried. */
  readonly events: EventPublisher;
  /** The modules recorded per database: a restored database's records go with it (compensation). */
  readonly modules?: ModuleRegistry;
}

/** A request the saga must not act on: not retried, compensated. */
export class InvalidProvisioningRequest extends Error {
  override readonly name = 'InvalidProvisioningRequest';
}

/**
 * A tenant whose children are not offboarded yet: offboarding it would orphan them. Not retried:
 * the plan offboards children first, so this is a bug in the ordering (or a child that appeared),
 * and the execution fails with the tenant still `deleting` rather than go on.
 */
export class TenantHasChildren extends Error {
  override readonly name = 'TenantHasChildren';
}

/** Worth retrying (the cluster is resuming, a connection dropped): Retry matches this name. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/**
 * Publishes a lifecycle event or fails the step (as a TransientError, so it is retried): an event
 * is never dropped. A retried step may publish again; consumers are idempotent by event id, and
 * the lifecycle events are facts that bear repeating.
 */
export async function announce(deps: SagaDeps, event: OutgoingEvent): Promise<void> {
  const { failed } = await deps.events.publish([event]);
  if (failed.length > 0) throw new TransientError(`The bus refused ${event.detailType}: ${failed[0]?.code}`);
}

export const now = () => new Date().toISOString();

export interface TenantCredentials {
  readonly username: string;
  readonly password: string;
  readonly engine: 'postgres';
}

/** 32 characters of [A-Za-z0-9]: safe to place in `PASSWORD '...'`, which takes no parameters. */
export function newRolePassword(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(32)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

const SAFE_PASSWORD = /^[A-Za-z0-9]{32}$/;

/** Whether the SQL adapter judged the failure transient (serialization, deadlock, connection, …). */
const isTransientDatabaseError = (error: unknown): boolean => sqlFailureOf(error)?.transient === true;

/**
 * Runs database work of a step, turning transient failures into TransientError (retried). A
 * resuming database keeps its name: its own retrier waits long enough for a resume.
 */
export async function retryable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && error.name === DATABASE_RESUMING) throw error;
    if (isTransientDatabaseError(error)) {
      throw new TransientError(`Transient database error: ${error instanceof Error ? error.message : error}`);
    }
    throw error;
  }
}

export async function databaseFor(
  deps: Pick<SagaDeps, 'databases'>,
  tenantId: string,
  databaseId: string,
): Promise<TenantDatabaseRecord> {
  const record = await deps.databases.get(databaseId);
  if (!record || record.tenantId !== tenantId) {
    throw new InvalidProvisioningRequest(`Database ${databaseId} does not belong to tenant ${tenantId}`);
  }
  return record;
}

/**
 * Step 1: the placement policy's cluster (shared/tenancy/placement.ts: the tenant's pin, or the
 * open cluster with the most headroom); a retry keeps the first choice. A refusal (a closed pin,
 * no open cluster with room) fails the step, and the saga compensates.
 */
export async function placeDatabase(deps: SagaDeps, tenantId: string, databaseId: string) {
  const record = await databaseFor(deps, tenantId, databaseId);
  if (record.clusterId) return { clusterId: record.clusterId };
  const [tenant, clusters] = await Promise.all([deps.tenants.get(tenantId), deps.clusterRegistry.withLoad()]);
  const clusterId = (deps.placement ?? headroomPlacement).choose({
    clusters,
    pinnedClusterId: tenant?.pinnedClusterId ?? null,
  });
  return { clusterId: await deps.databases.place(databaseId, clusterId) };
}

/**
 * Step 2: the tenant's secret, made once per tenant and tagged with its id. Created first, read
 * only once it is known to exist: the steps may use a secret only when it carries the tenant tag,
 * so in AWS reading one that does not exist yet is AccessDeniedException, not "not found" (a
 * missing secret has no tags to match). CreateSecret is allowed on the tag in the request.
 */
export async function ensureTenantSecret(deps: SagaDeps, tenantId: string, databaseId: string) {
  const record = await databaseFor(deps, tenantId, databaseId);
  // A pooled database has no secret of its tenant: the pool's is recorded with its schema.
  if (record.schemaName !== null) return { secretArn: null, pooled: true };
  const arn = await tenantSecretArn(deps, tenantId, record.roleName);
  await deps.databases.setSecret(tenantId, arn);
  return { secretArn: arn };
}

/** The tenant's secret (its login role's password), made if it has none yet; its ARN. */
export async function tenantSecretArn(
  deps: Pick<SagaDeps, 'secrets' | 'stage'>,
  tenantId: string,
  roleName: string,
): Promise<string> {
  const name = secretNameFor(deps.stage, tenantId);
  const tags = { [TENANT_TAG]: tenantId };
  const credentials: TenantCredentials = {
    username: roleName,
    password: newRolePassword(),
    engine: 'postgres',
  };
  try {
    return (await deps.secrets.createSecret({ name, value: JSON.stringify(credentials), tags })).arn;
  } catch (error) {
    if (!(error instanceof SecretAlreadyExists)) throw error;
    // Made before (a retried step, or another of the tenant's databases): it exists, so it may be
    // read; creating it again with its own value is idempotent and answers its ARN.
    const value = await deps.secrets.getSecretValue(name);
    return (await deps.secrets.createSecret({ name, value, tags })).arn;
  }
}

async function credentialsOf(deps: Pick<SagaDeps, 'secrets'>, secretArn: string): Promise<TenantCredentials> {
  const credentials = JSON.parse(await deps.secrets.getSecretValue(secretArn)) as TenantCredentials;
  if (!SAFE_PASSWORD.test(credentials.password))
    throw new InvalidProvisioningRequest('Unexpected password format');
  return credentials;
}

/**
 * Step 3, as the master role: the tenant's login role (its password from the secret), the database
 * it owns, and `CONNECT` revoked from PUBLIC on it, on `postgres` and on the control database, so
 * that no other role can open it even if application code were wrong.
 */
export async function createRoleAndDatabase(deps: SagaDeps, tenantId: string, databaseId: string) {
  const record = await databaseFor(deps, tenantId, databaseId);
  if (record.schemaName !== null) return createPooledDatabase(deps, record);
  if (!record.clusterId || !record.secretArn)
    throw new InvalidProvisioningRequest('Database is not placed yet');
  await createSiloDatabase(deps, { ...record, clusterId: record.clusterId, secretArn: record.secretArn });
  return { database: record.databaseName, role: record.roleName };
}

/** A silo database on its cluster: what step 3 makes (also a move's copy of a database). */
export async function createSiloDatabase(
  deps: Pick<SagaDeps, 'clusters' | 'secrets' | 'controlDatabase'>,
  placed: { clusterId: string; secretArn: string; roleName: string; databaseName: string },
): Promise<void> {
  const { password } = await credentialsOf(deps, placed.secretArn);
  const admin = deps.clusters.admin(placed.clusterId);
  const role = quoteIdentifier(placed.roleName);
  const database = quoteIdentifier(placed.databaseName);

  await retryable(async () => {
    // Role and grant changes touch shared catalog rows: concurrent tenants take turns (a few ms).
    await admin.transaction(async (tx) => {
      await lockClusterDdl(tx);
      const roleExists = await tx.query('select 1 from pg_roles where rolname = :role', {
        role: placed.roleName,
      });
      if (roleExists.length === 0) await tx.execute(`create role ${role} login password '${password}'`);
      // Keeps the role's password equal to the secret's, whichever run created either.
      await tx.execute(`alter role ${role} with login nocreatedb nocreaterole password '${password}'`);
    });
    await asMemberOf(admin, role, async () => {
      await createDatabaseOnce(admin, placed.databaseName, `create database ${database} owner ${role}`);
      // As the owner (a member of the owning role): PUBLIC's CONNECT and TEMPORARY on a new
      // database are the owner's grant, which only the owner can take back; a REVOKE by anyone
      // else leaves them (https://www.postgresql.org/docs/17/sql-revoke.html).
      await admin.transaction(async (tx) => {
        await lockClusterDdl(tx);
        await tx.execute(`revoke all on database ${database} from public`);
        await tx.execute(`grant connect, temporary on database ${database} to ${role}`);
      });
    });
    await admin.transaction(async (tx) => {
      await lockClusterDdl(tx);
      await tx.execute('revoke connect on database postgres from public');
      // Only `primary` holds the control database; another cluster has none to close.
      const control = await tx.query('select 1 from pg_database where datname = :name', {
        name: deps.controlDatabase,
      });
      if (control.length > 0) {
        await tx.execute(`revoke connect on database ${quoteIdentifier(deps.controlDatabase)} from public`);
      }
    });
  });
}

/**
 * Step 3 for a pooled database, as the master: the tenant's NOLOGIN role and the database's schema
 * in the cluster's pool database (shared/provisioning/pool.ts), then the pool's secret recorded as
 * the one its statements are sent with.
 */
async function createPooledDatabase(deps: SagaDeps, record: TenantDatabaseRecord) {
  const { clusterId, schemaName } = record;
  if (!clusterId || schemaName === null) throw new InvalidProvisioningRequest('Database is not placed yet');
  await retryable(() => createPooledSchema(deps.clusters, { ...record, clusterId, schemaName }));
  await deps.databases.setDatabaseSecret(record.id, deps.clusters.poolSecretOf(clusterId));
  return { database: record.databaseName, schema: schemaName, role: record.roleName };
}

/** The schema every tenant database starts with, applied as the tenant's own role. */
export const BASELINE_SCHEMA = [
  `create table if not exists tenantry_migrations (
     module text not null,
     version integer not null,
     applied_at timestamptz not null default now(),
     primary key (module, version)
   )`,
  `insert into tenantry_migrations (module, version) values ('baseline', 1) on conflict do nothing`,
];
/** A silo database's owner takes CREATE on `public` from PUBLIC (the pool database's master did). */
const SILO_BASELINE = [...BASELINE_SCHEMA, 'revoke create on schema public from public'];

export async function tenantRunner(
  deps: Pick<SagaDeps, 'clusters'>,
  record: TenantDatabaseRecord,
): Promise<SqlRunner> {
  if (!record.clusterId || !record.secretArn)
    throw new InvalidProvisioningRequest('Database is not placed yet');
  return tenantSqlOf(deps.clusters, { ...record, clusterId: record.clusterId, secretArn: record.secretArn });
}

/** The baseline schema in a new database, as the tenant role; who it ran as (`current_user`). */
export async function applyBaseline(sql: SqlRunner, pooled: boolean): Promise<string | undefined> {
  const [owner] = await retryable(async () => {
    await sql.transaction(async (tx) => {
      for (const statement of pooled ? BASELINE_SCHEMA : SILO_BASELINE) await tx.execute(statement);
    });
    return sql.query<{ user: string }>('select current_user as "user"');
  });
  return owner?.user;
}

/** Step 4: the baseline schema, as the tenant role (proving it can connect to its database). */
export async function applyBaselineSchema(deps: SagaDeps, tenantId: string, databaseId: string) {
  const record = await databaseFor(deps, tenantId, databaseId);
  const user = await applyBaseline(await tenantRunner(deps, record), record.schemaName !== null);
  if (user !== record.roleName) throw new InvalidProvisioningRequest('Baseline ran as the wrong role');
  return { baselineVersion: 1 };
}

/** Step 5: the database (and, for the first one, the tenant) becomes active. */
export async function activateDatabase(
  deps: SagaDeps,
  tenantId: string,
  databaseId: string,
  /** False for a clone's databases: the clone's last step activates the tenant, once all are in. */
  activateTenant = true,
) {
  const record = await databaseFor(deps, tenantId, databaseId);
  // A restored database is `restoring` until RestoreDatabase has loaded and verified it.
  await deps.databases.transition(databaseId, ['provisioning', 'restoring'], 'active');
  if (record.isPrimary && activateTenant) {
    await deps.tenants.transition(tenantId, ['provisioning'], 'active');
    await announce(deps, outgoing(TenantProvisioned, { tenantId, databaseId, at: now() }));
  }
  deps.tenantChanged?.(tenantId);
  return { active: true, primary: record.isPrimary };
}

export async function dropDatabaseObjects(
  deps: Pick<SagaDeps, 'clusters'>,
  record: TenantDatabaseRecord,
): Promise<void> {
  if (!record.clusterId) return;
  if (record.schemaName !== null) {
    // Its schema only: the pool database's connections serve the other pooled tenants.
    await dropPooledSchema(deps.clusters, {
      ...record,
      clusterId: record.clusterId,
      schemaName: record.schemaName,
    });
    return;
  }
  await deps.clusters.release(record.databaseName);
  const admin = deps.clusters.admin(record.clusterId);
  const drop = () =>
    admin.execute(`drop database if exists ${quoteIdentifier(record.databaseName)} with (force)`);
  await dropAsOwner(admin, record.roleName, drop);
}

export async function dropRoleAndSecret(
  deps: SagaDeps,
  tenantId: string,
  clusterIds: readonly string[],
): Promise<void> {
  const role = roleNameFor(tenantId);
  for (const clusterId of new Set(clusterIds)) {
    await deps.clusters.admin(clusterId).transaction(async (tx) => {
      await lockClusterDdl(tx);
      await tx.execute(`drop role if exists ${quoteIdentifier(role)}`);
    });
  }
  await deps.secrets.deleteSecret(secretNameFor(deps.stage, tenantId));
}

/** The module records RestoreDatabase copied to a database (none unless it got that far). */
async function forgetModules(modules: ModuleRegistry, tenantId: string, databaseId: string): Promise<void> {
  for (const installation of await modules.ofTenant(tenantId)) {
    if (installation.databaseId === databaseId) {
      await modules.record(tenantId, databaseId, installation.moduleId, null);
    }
  }
}

/** The database, and for the primary one the tenant, become `failed` with the reason. */
async function markFailed(deps: SagaDeps, record: TenantDatabaseRecord, reason: string): Promise<void> {
  await deps.databases.transition(record.id, ['provisioning', 'restoring', 'failed'], 'failed', reason);
  if (record.isPrimary) await deps.tenants.transition(record.tenantId, ['provisioning'], 'failed', reason);
  deps.tenantChanged?.(record.tenantId);
}

/** The database being provisioned, unless it is unknown, another tenant's, or active (left be). */
async function failedDatabase(deps: SagaDeps, tenantId: string, databaseId: string) {
  const record = await deps.databases.get(databaseId);
  if (!record || record.tenantId !== tenantId) return { record: null, why: 'unknown database' };
  if (record.status === 'active') return { record: null, why: 'database is active' };
  return { record, why: null };
}

/**
 * Compensation: removes what the failed run made — the database; and, when no other live
 * database of the tenant needs them, the role and the secret — then records the failure. It never
 * touches an active database: a failure after activation, or a re-run, leaves it be.
 */
export async function compensateProvisioning(
  deps: SagaDeps,
  tenantId: string,
  databaseId: string,
  reason: string,
) {
  const { record, why } = await failedDatabase(deps, tenantId, databaseId);
  if (!record) return { compensated: false, reason: why };
  const clusterIds = deps.clusters.ids();
  await dropDatabaseObjects(deps, { ...record, clusterId: record.clusterId ?? clusterIds[0] ?? null });
  const others = (await deps.databases.ofTenant(tenantId)).filter(
    (db) => db.id !== databaseId && ['active', 'provisioning', 'restoring'].includes(db.status),
  );
  if (others.length === 0) await dropRoleAndSecret(deps, tenantId, clusterIds);
  if (record.restoredFrom && deps.modules) await forgetModules(deps.modules, tenantId, databaseId);
  await markFailed(deps, record, reason);
  if (record.isPrimary) {
    await announce(deps, outgoing(TenantProvisioningFailed, { tenantId, reason, at: now() }));
  }
  return { compensated: true, reason };
}

/**
 * When the compensation itself failed: the failure is recorded — the database and tenant become
 * `failed` with the reason — and nothing else is touched; what compensation could not remove is
 * left for an operator (the execution ends `CompensationFailed`). No "Tenant Provisioning Failed"
 * event: it promises that nothing of the tenant is left.
 */
export async function recordProvisioningFailure(
  deps: SagaDeps,
  tenantId: string,
  databaseId: string,
  reason: string,
) {
  const { record, why } = await failedDatabase(deps, tenantId, databaseId);
  if (!record) return { recorded: false, reason: why };
  await markFailed(deps, record, reason);
  return { recorded: true, reason };
}

/** Drops one (non-primary) database; the role and secret stay for the others. */
export async function dropTenantDatabase(deps: SagaDeps, tenantId: string, databaseId: string) {
  const record = await databaseFor(deps, tenantId, databaseId);
  if (record.status === 'deleted') return { dropped: false };
  await dropDatabaseObjects(deps, record);
  await deps.databases.transition(
    databaseId,
    ['deleting', 'failed', 'active', 'provisioning', 'restoring'],
    'deleted',
  );
  return { dropped: true };
}
