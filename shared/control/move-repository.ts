import type { Isolation } from '#shared/domain/isolation';
import { type SqlRunner, sqlJson } from '#shared/ports/sql';

/**
 * A move's phases (docs/isolation-modes.md, "Moves"): `copying` (the copy is made while the tenant
 * writes; its table definitions are frozen), `frozen` (row writes refused, the copy brought level
 * and verified), `switched` (the database's record names the copy; the source is to be dropped),
 * then `completed`, or `failed` (rolled back to the source).
 */
export const MOVE_PHASES = ['copying', 'frozen', 'switched', 'completed', 'failed'] as const;
export type MovePhase = (typeof MOVE_PHASES)[number];

/** The phases in which a database is being moved: no other move, no DDL, no drop. */
export const LIVE_MOVE_PHASES = ['copying', 'frozen'] as const satisfies readonly MovePhase[];
export type LiveMovePhase = (typeof LIVE_MOVE_PHASES)[number];

/** Where a database is, or is going: the cluster, the database and (pooled) the schema, the secret. */
export interface MovePlacement {
  readonly clusterId: string;
  readonly databaseName: string;
  readonly schemaName: string | null;
  readonly secretArn: string | null;
}

export interface DatabaseMove {
  readonly moveId: string;
  readonly databaseId: string;
  readonly tenantId: string;
  readonly from: MovePlacement;
  readonly to: MovePlacement;
  readonly toIsolation: Isolation;
  readonly phase: MovePhase;
  readonly reason: string | null;
  /** Each table's rows and sha256 in the source and the copy, once verified. */
  readonly verification: Record<string, unknown> | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const COLUMNS = `move_id as "moveId", database_id as "databaseId", tenant_id as "tenantId",
  jsonb_build_object('clusterId', from_cluster_id, 'databaseName', from_database_name,
                     'schemaName', from_schema_name, 'secretArn', from_secret_arn) as "from",
  jsonb_build_object('clusterId', to_cluster_id, 'databaseName', to_database_name,
                     'schemaName', to_schema_name, 'secretArn', to_secret_arn) as "to",
  to_isolation as "toIsolation", phase, reason, verification, created_at as "createdAt", updated_at as "updatedAt"`;

type MoveRow = DatabaseMove & Record<string, unknown>;

/** The moves of tenant databases, in the control database. */
export class MoveRepository {
  constructor(private readonly sql: SqlRunner) {}

  /**
   * Records a move of each database (in the caller's transaction, which checked that none of them
   * is moving: the live-move index refuses a second one anyway).
   */
  async record(
    moves: readonly {
      moveId: string;
      databaseId: string;
      tenantId: string;
      from: MovePlacement;
      to: Omit<MovePlacement, 'secretArn'>;
      toIsolation: Isolation;
    }[],
  ): Promise<void> {
    for (const move of moves) {
      await this.sql.execute(
        `insert into database_moves (move_id, database_id, tenant_id, from_cluster_id, from_database_name,
                                     from_schema_name, from_secret_arn, to_cluster_id, to_isolation,
                                     to_database_name, to_schema_name)
         values (:moveId, :databaseId, :tenantId, :fromCluster, :fromDatabase, :fromSchema, :fromSecret,
                 :toCluster, :toIsolation, :toDatabase, :toSchema)
         on conflict (move_id, database_id) do nothing`,
        {
          moveId: move.moveId,
          databaseId: move.databaseId,
          tenantId: move.tenantId,
          fromCluster: move.from.clusterId,
          fromDatabase: move.from.databaseName,
          fromSchema: move.from.schemaName,
          fromSecret: move.from.secretArn,
          toCluster: move.to.clusterId,
          toIsolation: move.toIsolation,
          toDatabase: move.to.databaseName,
          toSchema: move.to.schemaName,
        },
      );
    }
  }

  /** Takes the tenant's row for the rest of the caller's transaction: its moves start one at a time. */
  async lockTenant(tenantId: string): Promise<boolean> {
    const rows = await this.sql.query('select 1 as locked from tenants where id = :tenantId for update', {
      tenantId,
    });
    return rows.length > 0;
  }

  /** Every database of one move, in the order they were recorded. */
  async ofMove(moveId: string): Promise<DatabaseMove[]> {
    return this.sql.query<MoveRow>(
      `select ${COLUMNS} from database_moves where move_id = :moveId order by created_at, database_id`,
      { moveId },
    );
  }

  /** Every database of the tenant's latest move, in one query; none when it was never moved. */
  async latestOfTenant(tenantId: string): Promise<DatabaseMove[]> {
    return this.sql.query<MoveRow>(
      `select ${COLUMNS} from database_moves
        where move_id = (select move_id from database_moves where tenant_id = :tenantId
                          order by created_at desc, move_id limit 1)
        order by created_at, database_id`,
      { tenantId },
    );
  }

  /**
   * The tenant's unfinished moves (of any of its databases): live, or switched with its sources
   * not dropped yet (a move started meanwhile could copy to the very name that drop removes).
   */
  async unfinishedOfTenant(tenantId: string): Promise<DatabaseMove[]> {
    return this.sql.query<MoveRow>(
      `select ${COLUMNS} from database_moves
        where tenant_id = :tenantId and phase in (select jsonb_array_elements_text(:live::jsonb))
        order by created_at, database_id`,
      { tenantId, live: sqlJson([...LIVE_MOVE_PHASES, 'switched']) },
    );
  }

  /** The tenants of `tenantIds` with a live move (one query for a subtree). */
  async movingAmong(tenantIds: readonly string[]): Promise<string[]> {
    const rows = await this.sql.query<{ tenantId: string }>(
      `select distinct tenant_id as "tenantId" from database_moves
        where phase in (select jsonb_array_elements_text(:live::jsonb))
          and tenant_id in (select jsonb_array_elements_text(:ids::jsonb))
        order by 1`,
      { live: sqlJson(LIVE_MOVE_PHASES), ids: sqlJson(tenantIds) },
    );
    return rows.map((row) => row.tenantId);
  }

  /** Moves every database of the move from one of `from` to `to`; how many rows changed. */
  async setPhase(
    moveId: string,
    from: readonly MovePhase[],
    to: MovePhase,
    reason: string | null = null,
  ): Promise<number> {
    return this.sql.execute(
      `update database_moves set phase = :to, reason = coalesce(:reason, reason), updated_at = now()
        where move_id = :moveId and phase in (select jsonb_array_elements_text(:from::jsonb))`,
      { moveId, to, reason, from: sqlJson(from) },
    );
  }

  /** The secret the copy's statements are sent with (the tenant's for silo, the pool's for pool). */
  async setTargetSecret(moveId: string, databaseId: string, secretArn: string): Promise<void> {
    await this.sql.execute(
      `update database_moves set to_secret_arn = :secretArn, updated_at = now()
        where move_id = :moveId and database_id = :databaseId`,
      { moveId, databaseId, secretArn },
    );
  }

  async setVerification(moveId: string, databaseId: string, verification: unknown): Promise<void> {
    await this.sql.execute(
      `update database_moves set verification = :verification::jsonb, updated_at = now()
        where move_id = :moveId and database_id = :databaseId`,
      { moveId, databaseId, verification: sqlJson(verification) },
    );
  }
}
