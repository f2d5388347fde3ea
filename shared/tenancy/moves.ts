import { ClusterRegistry } from '#shared/control/cluster-registry';
import { DatabaseRegistry, type TenantDatabaseRecord } from '#shared/control/database-registry';
import { derivedMoveId, newMoveId } from '#shared/control/ids';
import { type DatabaseMove, MoveRepository } from '#shared/control/move-repository';
import { TenantRepository } from '#shared/control/tenant-repository';
import { type Isolation, isolationOfSchema } from '#shared/domain/isolation';
import { ClusterClosed, Conflict, NotFound } from '#shared/errors';
import type { IdempotentAttempt } from '#shared/ports/idempotency';
import type { SqlRunner } from '#shared/ports/sql';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { placementNamesFor } from '#shared/provisioning/names';
import { startWorkflow } from '#shared/workflows/attempts';
import type { ProvisioningInput } from '#shared/workflows/provisioning';

/*
 * Starting moves (docs/isolation-modes.md, "Moves"): a database to another cluster, or all of a
 * tenant's databases to the other isolation. Checked and recorded in one transaction of the
 * control database under the tenant's row lock, then the `move` workflow starts
 * (shared/workflows/move-states.ts). Platform admins only (the routes say so).
 */

export interface MoveDeps {
  readonly control: SqlRunner;
  readonly workflows: WorkflowStarter;
}

/** A move runs as the execution `move-<moveId>`. */
export const moveExecutionName = (moveId: string) => `move-${moveId}`;

export type MoveView = ReturnType<typeof toMoveView>;

/** A move as the API shows it (202 of the move routes, `move` of `GET …/provisioning`). */
export function toMoveView(moves: readonly DatabaseMove[]) {
  const [first] = moves;
  if (!first) throw new NotFound('Move not found');
  return {
    moveId: first.moveId,
    tenantId: first.tenantId,
    isolation: first.toIsolation,
    phase: first.phase,
    reason: first.reason,
    databases: moves.map((move) => ({
      databaseId: move.databaseId,
      fromClusterId: move.from.clusterId,
      toClusterId: move.to.clusterId,
      phase: move.phase,
      ...(move.verification ? { verification: move.verification } : {}),
    })),
    createdAt: first.createdAt,
    // ISO 8601 instants: the latest sorts last.
    updatedAt:
      moves
        .map((move) => move.updatedAt)
        .sort()
        .at(-1) ?? first.updatedAt,
  };
}

interface MoveTarget {
  readonly record: TenantDatabaseRecord;
  readonly clusterId: string;
  readonly isolation: Isolation;
}

/**
 * The checks every move makes, then the record of its databases and the workflow's start. A
 * re-run under the same Idempotency-Key answers the move it started.
 */
async function startMove(
  deps: MoveDeps,
  tenantId: string,
  attempt: IdempotentAttempt | null,
  targetsOf: (tx: SqlRunner, databases: TenantDatabaseRecord[]) => Promise<MoveTarget[]>,
) {
  const moveId = attempt ? derivedMoveId(attempt.token) : newMoveId();
  if (attempt?.rerun) {
    const earlier = await new MoveRepository(deps.control).ofMove(moveId);
    if (earlier[0]?.tenantId === tenantId) {
      if (earlier[0].phase === 'copying') await startMoveWorkflow(deps.workflows, tenantId, moveId);
      return toMoveView(earlier);
    }
  }
  const moves = await deps.control.transaction(async (tx) => {
    const repository = new MoveRepository(tx);
    const tenant = await new TenantRepository(tx).get(tenantId);
    if (!tenant || tenant.status === 'deleted' || !(await repository.lockTenant(tenantId))) {
      throw new NotFound('Tenant not found');
    }
    if (tenant.status !== 'active') {
      throw new Conflict('Only an active tenant is moved', {
        reason: 'tenant_not_active',
        status: tenant.status,
      });
    }
    if ((await repository.unfinishedOfTenant(tenantId)).length > 0) {
      throw new Conflict('A move of the tenant is running; start another once it has finished', {
        reason: 'move_in_progress',
      });
    }
    const databases = await new DatabaseRegistry(tx).ofTenant(tenantId);
    const targets = await targetsOf(tx, databases);
    await repository.record(
      targets.map(({ record, clusterId, isolation }) => {
        if (!record.clusterId)
          throw new Conflict('A database is not placed yet', { reason: 'database_not_active' });
        return {
          moveId,
          databaseId: record.id,
          tenantId,
          from: {
            clusterId: record.clusterId,
            databaseName: record.databaseName,
            schemaName: record.schemaName,
            secretArn: record.secretArn,
          },
          to: { clusterId, ...placementNamesFor(record.id, isolation) },
          toIsolation: isolation,
        };
      }),
    );
    return repository.ofMove(moveId);
  });
  try {
    await startMoveWorkflow(deps.workflows, tenantId, moveId);
  } catch (error) {
    // Not left copying: it would hold the tenant's one live move for ever.
    await new MoveRepository(deps.control).setPhase(
      moveId,
      ['copying'],
      'failed',
      'The move could not be started',
    );
    throw error;
  }
  return toMoveView(moves);
}

const startMoveWorkflow = (workflows: WorkflowStarter, tenantId: string, moveId: string) =>
  startWorkflow(workflows, moveExecutionName(moveId), {
    operation: 'move',
    tenantId,
    moveId,
  } satisfies ProvisioningInput);

function notActive(db: TenantDatabaseRecord): never {
  throw new Conflict('A database of the tenant is not active', {
    reason: 'database_not_active',
    databaseId: db.id,
    databaseStatus: db.status,
  });
}

/** Refuses a move while a database of the tenant is being made, restored or dropped. */
function activeOnly(databases: readonly TenantDatabaseRecord[]): void {
  const busy = databases.find((db) => db.status !== 'active' && db.status !== 'failed');
  if (busy) notActive(busy);
}

/**
 * `POST /tenants/{tenantId}/databases/{databaseId}/move`: the database to another open cluster,
 * keeping its isolation. 404 for an unknown database or cluster; 409 `cluster_closed` for a
 * cluster that is not open, `already_there` for its own cluster, `move_in_progress`,
 * `database_not_active`, `tenant_not_active`.
 */
export async function moveDatabase(
  deps: MoveDeps,
  tenantId: string,
  databaseId: string,
  clusterId: string,
  attempt: IdempotentAttempt | null = null,
) {
  return startMove(deps, tenantId, attempt, async (tx, databases) => {
    const record = databases.find((db) => db.id === databaseId);
    if (!record) throw new NotFound('Database not found');
    // A failed database is not moved either (the tenant's others are left out of a move: activeOnly).
    if (record.status !== 'active') notActive(record);
    const cluster = await new ClusterRegistry(tx).existing(clusterId);
    if (cluster.state !== 'open') {
      throw new ClusterClosed(
        `Cluster ${clusterId} is ${cluster.state}: databases move only to an open cluster`,
      );
    }
    if (record.clusterId === clusterId) {
      throw new Conflict(`The database is on cluster ${clusterId} already`, { reason: 'already_there' });
    }
    return [{ record, clusterId, isolation: isolationOfSchema(record.schemaName) }];
  });
}

/**
 * `PUT /tenants/{tenantId}/isolation`, and a plan change to a plan of the other isolation: every
 * active database of the tenant to the other isolation, each on the cluster it is on. 409
 * `already_there` when the tenant has that isolation, `move_in_progress`, `database_not_active`
 * (one being provisioned, restored or dropped), `tenant_not_active`.
 */
export async function changeIsolation(
  deps: MoveDeps,
  tenantId: string,
  isolation: Isolation,
  attempt: IdempotentAttempt | null = null,
) {
  return startMove(deps, tenantId, attempt, async (tx, databases) => {
    const tenant = await new TenantRepository(tx).get(tenantId);
    if (tenant?.isolation === isolation) {
      throw new Conflict(`The tenant is ${isolation} already`, { reason: 'already_there' });
    }
    activeOnly(databases);
    const moving = databases.filter((db) => db.status === 'active');
    if (moving.length === 0)
      throw new Conflict('The tenant has no active database', { reason: 'database_not_active' });
    return moving.map((record) => ({ record, clusterId: record.clusterId ?? '', isolation }));
  });
}

/** The tenant's latest move, as `GET …/provisioning` shows it beside its workflow; null when none. */
export async function latestMove(control: SqlRunner, tenantId: string) {
  const latest = await new MoveRepository(control).latestOfTenant(tenantId);
  return latest.length > 0 ? toMoveView(latest) : null;
}

/**
 * 409 `move_in_progress` when a tenant of `tenantIds` has a live move: a database created now
 * would have the isolation the tenant leaves; an offboarding would drop what the move copies.
 */
export async function refuseWhileMoving(control: SqlRunner, tenantIds: string | readonly string[]) {
  const ids = typeof tenantIds === 'string' ? [tenantIds] : tenantIds;
  const moving = await new MoveRepository(control).movingAmong(ids);
  if (moving.length > 0) {
    throw new Conflict('A database of the tenant is being moved; try again once the move has finished', {
      reason: 'move_in_progress',
      tenants: moving.slice(0, 20),
    });
  }
}
