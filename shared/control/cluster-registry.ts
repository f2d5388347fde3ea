import type { ClusterSetting, ClusterState } from '#shared/domain/clusters';
import { NotFound } from '#shared/errors';
import { type SqlRunner, sqlJson } from '#shared/ports/sql';

export interface ClusterRecord {
  readonly id: string;
  readonly name: string;
  readonly state: ClusterState;
  readonly capacity: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a cluster holds now, as `GET /clusters` shows it and placement weighs it. */
export interface ClusterLoad {
  /** Distinct tenants with a live database there (silo or pooled). */
  readonly tenants: number;
  /** Live silo databases: a database of their own each. */
  readonly databases: number;
  /** Live pooled databases: a schema each inside the cluster's pool database. */
  readonly poolDatabases: number;
}

export type ClusterWithLoad = ClusterRecord & ClusterLoad;

const COLUMNS = `id, name, state, capacity, created_at as "createdAt", updated_at as "updatedAt"`;

/**
 * A pooled database: a schema inside the cluster's pool database (`schema_name`, docs/isolation-modes.md),
 * not a database of its own.
 */
const POOLED = 'schema_name is not null';

/** Being made, restored or in use: what occupies a cluster (a failed or dropped one does not). */
const LIVE = `status in ('provisioning', 'restoring', 'active')`;

/**
 * The cluster registry in the control database (docs/clusters.md): which clusters the deployment
 * has, whether new databases may go there (`state`, the platform admins') and how many it should
 * hold (`capacity`, from the configuration).
 */
export class ClusterRegistry {
  constructor(private readonly sql: SqlRunner) {}

  /**
   * Records the configured clusters, in one transaction: a new one is inserted `open`; a known one
   * takes the configured name and capacity and keeps its state (the admins'); one that is no
   * longer configured stays, `closed`: its databases (if any) are still registered there, and
   * nothing new may go to a cluster the functions cannot reach.
   */
  async sync(configured: readonly ClusterSetting[]): Promise<{ added: string[]; closed: string[] }> {
    return this.sql.transaction(async (tx) => {
      const upserted = await tx.query<{ id: string; inserted: boolean }>(
        `insert into clusters (id, name, capacity)
           select c->>'id', c->>'name', (c->>'capacity')::int from jsonb_array_elements(:clusters::jsonb) c
         on conflict (id) do update set name = excluded.name, capacity = excluded.capacity,
                updated_at = case when (clusters.name, clusters.capacity) = (excluded.name, excluded.capacity)
                                  then clusters.updated_at else now() end
         returning id, (xmax = 0) as inserted`,
        { clusters: sqlJson(configured) },
      );
      const closed = await tx.query<{ id: string }>(
        `update clusters set state = 'closed', updated_at = now()
          where state <> 'closed' and id not in (select jsonb_array_elements(:clusters::jsonb)->>'id')
          returning id`,
        { clusters: sqlJson(configured) },
      );
      return {
        // xmax is 0 on a row version this statement inserted, not on one it updated.
        added: upserted.filter((row) => row.inserted).map((row) => row.id),
        closed: closed.map((row) => row.id).sort(),
      };
    });
  }

  async get(clusterId: string): Promise<ClusterRecord | null> {
    const [row] = await this.sql.query<ClusterRecord & Record<string, unknown>>(
      `select ${COLUMNS} from clusters where id = :clusterId`,
      { clusterId },
    );
    return row ?? null;
  }

  /** The cluster, or 404 `not_found`. */
  async existing(clusterId: string): Promise<ClusterRecord> {
    const cluster = await this.get(clusterId);
    if (!cluster) throw new NotFound('Cluster not found');
    return cluster;
  }

  /**
   * Every cluster with what it holds, in configuration order (`primary` first, then by id). One
   * query: a deployment has a handful of clusters (MAX_CLUSTERS), so there is nothing to page.
   */
  async withLoad(): Promise<ClusterWithLoad[]> {
    return this.sql.query<ClusterWithLoad & Record<string, unknown>>(
      `select c.id, c.name, c.state, c.capacity, c.created_at as "createdAt", c.updated_at as "updatedAt",
              coalesce(l.tenants, 0)::int as tenants,
              coalesce(l.databases, 0)::int as databases,
              coalesce(l.pool_databases, 0)::int as "poolDatabases"
         from clusters c
         left join (select cluster_id,
                           count(distinct tenant_id) as tenants,
                           count(*) filter (where not (${POOLED})) as databases,
                           count(*) filter (where ${POOLED}) as pool_databases
                      from tenant_databases where ${LIVE} and cluster_id is not null group by cluster_id) l
           on l.cluster_id = c.id
        order by c.id <> 'primary', c.id`,
    );
  }

  /** Sets the state and/or the capacity; the cluster as it is now. */
  async update(
    clusterId: string,
    change: { readonly state?: ClusterState | undefined; readonly capacity?: number | undefined },
  ): Promise<ClusterRecord> {
    const [row] = await this.sql.query<ClusterRecord & Record<string, unknown>>(
      `update clusters set state = coalesce(:state, state), capacity = coalesce(:capacity::int, capacity),
              updated_at = now()
        where id = :clusterId returning ${COLUMNS}`,
      { clusterId, state: change.state ?? null, capacity: change.capacity ?? null },
    );
    if (!row) throw new NotFound('Cluster not found');
    return row;
  }
}
