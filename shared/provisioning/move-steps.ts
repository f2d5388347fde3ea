import { catchUpCopy, copyDatabase, freezeWrites, syncCopy, thawWrites } from '#shared/backups/move-copy';
import { deleteBackupObjects } from '#shared/backups/retention';
import { DatabaseRegistry, type TenantDatabaseRecord } from '#shared/control/database-registry';
import {
  type DatabaseMove,
  LIVE_MOVE_PHASES,
  type MovePhase,
  type MovePlacement,
  MoveRepository,
} from '#shared/control/move-repository';
import { TenantRepository } from '#shared/control/tenant-repository';
import { tenantSqlOf } from '#shared/data/tenant-database';
import type { BackupStore } from '#shared/ports/backup-store';
import type { SqlRunner } from '#shared/ports/sql';
import { lockClusterDdl } from '#shared/provisioning/cluster-ddl';
import { POOL_APP_USER, quoteIdentifier, roleNameFor, secretNameFor } from '#shared/provisioning/names';
import { createPooledSchema } from '#shared/provisioning/pool';
import {
  applyBaseline,
  createSiloDatabase,
  databaseFor,
  dropDatabaseObjects,
  InvalidProvisioningRequest,
  retryable,
  type SagaDeps,
  tenantSecretArn,
} from '#shared/provisioning/saga';

/*
 * The `move` operation's steps (docs/isolation-modes.md, "Moves"; the states are
 * shared/workflows/move-states.ts). A move takes one or more of a tenant's databases to another
 * cluster, or to the other isolation, each keeping its id:
 *   PlanMove → CopyMoveDatabase (each) → FreezeMoveWrites → SyncMoveDatabase (each) → SwitchMove
 *   → (the caches' grace) → FinishMove;
 * any failure before the switch → CompensateMove: the copies dropped, the source's writes given
 * back, the move `failed`; the source was never changed but for its frozen writes. The switch is
 * one transaction of the control database for every database of the move (and the tenant's
 * isolation), so a tenant never ends half moved.
 */

export interface MoveStepDeps extends SagaDeps {
  readonly control: SqlRunner;
  readonly backupStore: BackupStore;
}

async function movesOf(deps: MoveStepDeps, tenantId: string, moveId: string): Promise<DatabaseMove[]> {
  const moves = await new MoveRepository(deps.control).ofMove(moveId);
  if (moves.length === 0 || moves.some((move) => move.tenantId !== tenantId)) {
    throw new InvalidProvisioningRequest(`Move ${moveId} is not one of tenant ${tenantId}`);
  }
  return moves;
}

async function moveOf(deps: MoveStepDeps, tenantId: string, moveId: string, databaseId: string) {
  const move = (await movesOf(deps, tenantId, moveId)).find((m) => m.databaseId === databaseId);
  if (!move) throw new InvalidProvisioningRequest(`Move ${moveId} does not take database ${databaseId}`);
  const { from, to } = move;
  // Never the same place: a copy's first act is to drop what is at its target.
  if (
    from.clusterId === to.clusterId &&
    from.databaseName === to.databaseName &&
    from.schemaName === to.schemaName
  ) {
    throw new InvalidProvisioningRequest(`Move ${moveId} would copy database ${databaseId} onto itself`);
  }
  return { move, record: await databaseFor(deps, tenantId, databaseId) };
}

const isLive = (phase: MovePhase) => (LIVE_MOVE_PHASES as readonly MovePhase[]).includes(phase);

function inPhase(moves: readonly DatabaseMove[], phases: readonly MovePhase[]): void {
  const other = moves.find((move) => !phases.includes(move.phase));
  if (other) {
    throw new InvalidProvisioningRequest(`Database ${other.databaseId} of the move is ${other.phase}`);
  }
}

/** A side of the move as a placed database: how its statements reach it as the tenant. */
function placed(record: TenantDatabaseRecord, at: MovePlacement) {
  if (!at.secretArn) throw new InvalidProvisioningRequest(`Database ${record.id}'s copy has no secret yet`);
  return { ...record, ...at, secretArn: at.secretArn };
}

const sqlAt = (deps: MoveStepDeps, record: TenantDatabaseRecord, at: MovePlacement) =>
  tenantSqlOf(deps.clusters, placed(record, at));

/** Where the copy of the database keeps its parts in the backup store (`<moveId>/<databaseId>…`). */
const copyTargetOf = (deps: MoveStepDeps, record: TenantDatabaseRecord, moveId: string) => ({
  store: deps.backupStore,
  tenantId: record.tenantId,
  moveId,
  databaseId: record.id,
  label: record.label,
});

/** The copy's database or schema, dropped if it is there (a retried copy starts again). */
const dropAt = (deps: MoveStepDeps, record: TenantDatabaseRecord, at: MovePlacement) =>
  dropDatabaseObjects(deps, { ...record, ...at });

/** Step 1: the move's databases, all still to be copied. */
export async function planMove(deps: MoveStepDeps, tenantId: string, moveId: string) {
  const moves = await movesOf(deps, tenantId, moveId);
  inPhase(moves, ['copying']);
  return { databases: moves.map((move) => ({ databaseId: move.databaseId })) };
}

/**
 * Step 2, per database: the copy's objects on the target cluster made as the master (a silo
 * database with the tenant's role and secret, or a schema in the pool database with its NOLOGIN
 * role), the baseline applied as the tenant, then every table copied and verified while the
 * tenant keeps writing, and the tables written meanwhile copied once more (`catchUpCopy`). A retry
 * drops what an earlier attempt made and starts again.
 */
export async function copyMoveDatabase(
  deps: MoveStepDeps,
  tenantId: string,
  moveId: string,
  databaseId: string,
) {
  const { move, record } = await moveOf(deps, tenantId, moveId, databaseId);
  inPhase([move], ['copying']);
  const { to } = move;
  let secretArn: string;
  await retryable(() => dropAt(deps, record, to));
  if (to.schemaName === null) {
    secretArn = await tenantSecretArn(deps, tenantId, record.roleName);
    await createSiloDatabase(deps, {
      ...record,
      clusterId: to.clusterId,
      databaseName: to.databaseName,
      secretArn,
    });
  } else {
    secretArn = deps.clusters.poolSecretOf(to.clusterId);
    const schemaName = to.schemaName;
    // The role keeps its LOGIN: the source may be its silo database on the same cluster.
    await retryable(() =>
      createPooledSchema(
        deps.clusters,
        { ...record, clusterId: to.clusterId, schemaName },
        { keepLogin: true },
      ),
    );
  }
  await new MoveRepository(deps.control).setTargetSecret(moveId, databaseId, secretArn);
  const target = await sqlAt(deps, record, { ...to, secretArn });
  if ((await applyBaseline(target, to.schemaName !== null)) !== record.roleName) {
    throw new InvalidProvisioningRequest('The copy answered as another role');
  }
  const source = await sqlAt(deps, record, move.from);
  const at = copyTargetOf(deps, record, moveId);
  const copied = await retryable(() => copyDatabase(source, target, at));
  // The tables written during that copy, copied again while writes still go on: a shorter freeze.
  const caughtUp = await retryable(() => catchUpCopy(source, target, at));
  return { ...copied, caughtUp: caughtUp.recopied.length };
}

/** Step 3: row writes frozen on every source at once (see `freezeWrites`); reads go on. */
export async function freezeMoveWrites(deps: MoveStepDeps, tenantId: string, moveId: string) {
  const moves = await movesOf(deps, tenantId, moveId);
  inPhase(moves, ['copying', 'frozen']);
  await new MoveRepository(deps.control).setPhase(moveId, ['copying'], 'frozen');
  for (const move of moves) {
    const record = await databaseFor(deps, tenantId, move.databaseId);
    await retryable(async () => freezeWrites(await sqlAt(deps, record, move.from), record.roleName));
  }
  deps.tenantChanged?.(tenantId);
  return { frozen: moves.length };
}

/** Step 4, per database: the copy brought level with the frozen source and verified (`syncCopy`). */
export async function syncMoveDatabase(
  deps: MoveStepDeps,
  tenantId: string,
  moveId: string,
  databaseId: string,
) {
  const { move, record } = await moveOf(deps, tenantId, moveId, databaseId);
  inPhase([move], ['frozen']);
  const [source, target] = await Promise.all([sqlAt(deps, record, move.from), sqlAt(deps, record, move.to)]);
  const verification = await retryable(() => syncCopy(source, target, copyTargetOf(deps, record, moveId)));
  await new MoveRepository(deps.control).setVerification(moveId, databaseId, verification);
  const { tables, ...summary } = verification;
  return { ...summary, tables: tables.length };
}

/**
 * Step 5: every database of the move now names its copy, and the tenant has the isolation the
 * copies have, in one transaction; the copies take writes at once. Safe to run again.
 */
export async function switchMove(deps: MoveStepDeps, tenantId: string, moveId: string) {
  const moves = await movesOf(deps, tenantId, moveId);
  if (moves.every((move) => move.phase === 'switched' || move.phase === 'completed')) {
    return { switched: moves.length };
  }
  inPhase(moves, ['frozen']);
  const unverified = moves.find((move) => !move.verification || !move.to.secretArn);
  if (unverified) throw new InvalidProvisioningRequest(`Database ${unverified.databaseId} is not verified`);
  await deps.control.transaction(async (tx) => {
    const databases = new DatabaseRegistry(tx);
    for (const move of moves) {
      await databases.relocate(move.databaseId, { ...move.to, secretArn: move.to.secretArn as string });
    }
    const isolation = moves[0]?.toIsolation;
    const tenants = new TenantRepository(tx);
    const tenant = await tenants.get(tenantId);
    if (isolation && tenant && tenant.isolation !== isolation)
      await tenants.setIsolation(tenantId, isolation);
    await new MoveRepository(tx).setPhase(moveId, ['frozen'], 'switched');
  });
  // `relocate` forgot this process's cached records; other processes' go within ACTIVE_DATABASE_TTL_MS.
  deps.tenantChanged?.(tenantId);
  return { switched: moves.length };
}

/**
 * The tenant's role on one cluster, as its databases there need it: gone when it has none there;
 * LOGIN when it has a silo database there, NOLOGIN otherwise; granted to the pool login role only
 * while it has a pooled database there.
 */
async function fitRole(deps: MoveStepDeps, tenantId: string, clusterId: string) {
  const roleName = roleNameFor(tenantId);
  const live = (await deps.databases.ofTenant(tenantId)).filter(
    (db) => db.clusterId === clusterId && db.status !== 'failed',
  );
  const role = quoteIdentifier(roleName);
  await deps.clusters.admin(clusterId).transaction(async (tx) => {
    await lockClusterDdl(tx);
    const exists = await tx.query('select 1 from pg_roles where rolname = :role', { role: roleName });
    if (exists.length === 0) return;
    if (live.length === 0) {
      await tx.execute(`drop role ${role}`);
      return;
    }
    if (!live.some((db) => db.schemaName === null))
      await tx.execute(`alter role ${role} with nologin password null`);
    if (!live.some((db) => db.schemaName !== null)) {
      await tx.execute(`revoke ${role} from ${quoteIdentifier(POOL_APP_USER)}`);
    }
  });
}

/** The tenant's secret goes once it has no silo database left (a pooled one is reached without). */
async function fitSecret(deps: MoveStepDeps, tenantId: string) {
  const live = await deps.databases.ofTenant(tenantId);
  if (!live.some((db) => db.schemaName === null))
    await deps.secrets.deleteSecret(secretNameFor(deps.stage, tenantId));
}

/**
 * Step 6 (after the caches' grace, so no request still reads a source): every source dropped,
 * the tenant's role fitted to what it has on each cluster, its secret deleted if it has no silo
 * database left, the move's parts deleted from the backup store. Safe to run again.
 */
export async function finishMove(deps: MoveStepDeps, tenantId: string, moveId: string) {
  const moves = await movesOf(deps, tenantId, moveId);
  inPhase(moves, ['switched', 'completed']);
  for (const move of moves) {
    const record = await databaseFor(deps, tenantId, move.databaseId);
    await retryable(() => dropAt(deps, record, move.from));
  }
  const clusters = new Set(moves.flatMap((move) => [move.from.clusterId, move.to.clusterId]));
  for (const clusterId of clusters) await retryable(() => fitRole(deps, tenantId, clusterId));
  await fitSecret(deps, tenantId);
  await deleteBackupObjects(deps.backupStore, tenantId, moveId);
  await new MoveRepository(deps.control).setPhase(moveId, ['switched'], 'completed');
  deps.tenantChanged?.(tenantId);
  return { completed: moves.length };
}

/**
 * Any failure before the switch: every copy dropped, the sources' row writes given back, the
 * tenant's role and secret fitted again to what it had, the move's parts deleted, the move
 * `failed` with the reason. A move already switched is left switched (its copies are the
 * databases now). Safe to run again.
 */
export async function compensateMove(deps: MoveStepDeps, tenantId: string, moveId: string, reason: string) {
  const moves = await movesOf(deps, tenantId, moveId);
  const open = moves.filter((move) => isLive(move.phase));
  if (open.length === 0) return { compensated: false, phase: moves[0]?.phase };
  for (const move of open) {
    const record = await databaseFor(deps, tenantId, move.databaseId);
    await retryable(() => dropAt(deps, record, move.to));
    if (move.phase === 'frozen') {
      await retryable(async () => thawWrites(await sqlAt(deps, record, move.from), record.roleName));
    }
  }
  for (const clusterId of new Set(open.map((move) => move.to.clusterId))) {
    await retryable(() => fitRole(deps, tenantId, clusterId));
  }
  await fitSecret(deps, tenantId);
  await deleteBackupObjects(deps.backupStore, tenantId, moveId);
  await new MoveRepository(deps.control).setPhase(moveId, LIVE_MOVE_PHASES, 'failed', reason);
  deps.tenantChanged?.(tenantId);
  return { compensated: true, databases: open.length };
}
