import * as z from 'zod';
import { CLUSTER_STATES, clusterCapacitySchema, clusterIdSchema } from '#shared/domain/clusters';
import { isolationSchema } from '#shared/domain/isolation';
import { error, signedIn } from '#shared/routes/responses';
import { databaseParams, moveSchema, tenantParams, tenantSchema } from '#shared/routes/schemas';
import { defineRoute, type RouteSpec } from '#shared/routes/types';

const count = z.number().int().nonnegative();

/** A registered cluster and what it holds (docs/clusters.md). */
export const clusterSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** `open`: placement may choose it; `draining`: no new database unless pinned; `closed`: none, no pin. */
  state: z.enum(CLUSTER_STATES),
  /** How many silo databases it should hold (a pooled database counts a fraction). */
  capacity: count,
  /** Distinct tenants with a live database there. */
  tenants: count,
  /** Live silo databases (being made, restored or active). */
  databases: count,
  /** Live pooled databases: schemas in the cluster's pool database. */
  poolDatabases: count,
});

export const clusterParams = z.strictObject({ clusterId: clusterIdSchema });

/** `PATCH /clusters/{clusterId}`: drain, close or reopen, and/or a new capacity. */
export const clusterChangeSchema = z
  .strictObject({ state: z.enum(CLUSTER_STATES).optional(), capacity: clusterCapacitySchema.optional() })
  .refine((change) => change.state !== undefined || change.capacity !== undefined, {
    message: 'give state, capacity or both',
  });

/** `PUT /tenants/{tenantId}/placement`: the cluster the tenant's new databases go to; null unpins. */
export const placementSchema = z.strictObject({ clusterId: clusterIdSchema.nullable() });

/** `POST …/databases/{databaseId}/move`: the open cluster the database goes to. */
export const moveDatabaseSchema = z.strictObject({ clusterId: clusterIdSchema });

/** `PUT /tenants/{tenantId}/isolation`: the isolation every database of the tenant moves to. */
export const isolationChangeSchema = z.strictObject({ isolation: isolationSchema });

const moveConflicts =
  'A move is running (`move_in_progress`), a database is not active (`database_not_active`), the tenant is not active (`tenant_not_active`), or it is there already (`already_there`)';

const platformAdmins = { kind: 'platform', groups: ['platform-admin'] } as const;

/** The cluster registry and placement pins (issue 18; platform admins). */
export const clusterRoutes = {
  listClusters: defineRoute({
    operationId: 'listClusters',
    method: 'GET',
    path: '/clusters',
    summary:
      "The deployment's database clusters with their state, capacity and what each holds (platform admins). A handful at most: not paged.",
    tags: ['clusters'],
    access: platformAdmins,
    handler: 'clusters/list-clusters',
    needs: ['controlDb', 'telemetry'],
    request: {},
    responses: {
      200: { description: 'Every registered cluster', schema: z.object({ items: z.array(clusterSchema) }) },
      ...signedIn,
      403: error('Platform admins only'),
    },
  }),
  updateCluster: defineRoute({
    operationId: 'updateCluster',
    method: 'PATCH',
    path: '/clusters/{clusterId}',
    summary:
      'Drain (no new databases unless pinned), close (none at all, no pins) or reopen a cluster, and/or change its capacity until the next deploy that changes the cluster configuration (platform admins). Databases already there stay.',
    tags: ['clusters'],
    access: platformAdmins,
    handler: 'clusters/patch-cluster',
    needs: ['controlDb', 'telemetry'],
    request: { params: clusterParams, body: clusterChangeSchema },
    responses: {
      200: { description: 'The cluster as it is now', schema: clusterSchema },
      ...signedIn,
      403: error('Platform admins only'),
      404: error('Unknown cluster'),
    },
  }),
  setTenantPlacement: defineRoute({
    operationId: 'setTenantPlacement',
    method: 'PUT',
    path: '/tenants/{tenantId}/placement',
    summary:
      "Pin a tenant's future databases to a cluster, or unpin it with null (platform admins). Databases it already has stay where they are.",
    tags: ['clusters'],
    access: platformAdmins,
    handler: 'tenants/put-placement',
    needs: ['controlDb', 'telemetry'],
    request: { params: tenantParams, body: placementSchema },
    responses: {
      200: { description: 'The tenant, with its pin', schema: tenantSchema },
      ...signedIn,
      403: error('Platform admins only'),
      404: error('Unknown tenant or cluster'),
      409: error('The cluster is closed (`cluster_closed`)'),
    },
  }),
  moveDatabase: defineRoute({
    operationId: 'moveDatabase',
    method: 'POST',
    path: '/tenants/{tenantId}/databases/{databaseId}/move',
    summary:
      'Move a database to another open cluster, keeping its id and isolation (platform admins; docs/isolation-modes.md, "Moves"): copied while the tenant writes, row writes paused for a moment (503 with Retry-After; reads go on), verified by counts and checksums, switched, the source dropped. Any failure rolls back to the source. `GET …/provisioning` shows its steps. Send an Idempotency-Key header to retry safely.',
    tags: ['clusters'],
    access: platformAdmins,
    handler: 'databases/post-move',
    needs: ['controlDb', 'workflows', 'telemetry'],
    idempotent: true,
    request: { params: databaseParams, body: moveDatabaseSchema },
    responses: {
      202: { description: 'The move, started', schema: moveSchema },
      ...signedIn,
      403: error('Platform admins only'),
      404: error('Unknown tenant, database or cluster'),
      409: error(`The cluster is not open (\`cluster_closed\`); ${moveConflicts}`),
    },
  }),
  setTenantIsolation: defineRoute({
    operationId: 'setTenantIsolation',
    method: 'PUT',
    path: '/tenants/{tenantId}/isolation',
    summary:
      'Move every database of the tenant to the other isolation (`silo`: a database of its own each; `pool`: a schema each in its cluster\'s pool database), each on its cluster and keeping its id (platform admins; docs/isolation-modes.md, "Moves"). All switch at once; any failure rolls every one back.',
    tags: ['clusters'],
    access: platformAdmins,
    handler: 'tenants/put-isolation',
    needs: ['controlDb', 'workflows', 'telemetry'],
    request: { params: tenantParams, body: isolationChangeSchema },
    responses: {
      202: { description: 'The move, started', schema: moveSchema },
      ...signedIn,
      403: error('Platform admins only'),
      404: error('Unknown tenant'),
      409: error(moveConflicts),
    },
  }),
} as const satisfies Record<string, RouteSpec>;
