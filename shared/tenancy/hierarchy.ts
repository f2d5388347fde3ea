import type { ControlTenantAccess } from '#shared/control/access-policy';
import type { TenantHierarchy } from '#shared/control/tenant-hierarchy';
import type { TenantRepository } from '#shared/control/tenant-repository';
import { logger } from '#shared/core/logger';
import type { Caller } from '#shared/domain/caller';
import { Forbidden, NotFound } from '#shared/errors';
import { AuditRecord } from '#shared/events/events';
import { type EventPublisher, outgoing } from '#shared/ports/event-publisher';
import type { TenantGrant } from '#shared/ports/tenant-access';

export interface HierarchyDeps {
  readonly tenants: Pick<TenantRepository, 'get'>;
  readonly hierarchy: Pick<TenantHierarchy, 'children' | 'move'>;
  readonly tenantAccess: Pick<ControlTenantAccess, 'authorize' | 'invalidateAll'>;
  readonly events: EventPublisher;
}

/** The audit action written in the old and the new parent's log when a child moves. */
export const PARENT_CHANGED_AUDIT_ACTION = 'tenants.parentChanged';

export async function listChildren(
  deps: Pick<HierarchyDeps, 'tenants' | 'hierarchy'>,
  tenantId: string,
  query: { depth: '1' | 'all'; limit: number; cursor?: string | undefined },
) {
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new NotFound('Tenant not found');
  return deps.hierarchy.children(tenant, {
    all: query.depth === 'all',
    limit: query.limit,
    cursor: query.cursor,
  });
}

/**
 * Moves a tenant under another parent, or makes it a root. A platform admin may move any tenant;
 * anyone else must be an owner of the tenant (its own or an inherited role) and hold
 * `tenants:createChild` in the new parent, or, to make it a root, in the current one: an
 * organisation lets a tenant go only with the consent of someone who may create children in it.
 * The move is audited in the logs of both parents (the request itself is in the tenant's).
 */
export async function moveTenant(
  deps: HierarchyDeps,
  request: { caller: Caller; grant: TenantGrant; requestId: string },
  parentId: string | null,
) {
  const { caller, grant, requestId } = request;
  const tenantId = grant.tenantId;
  const isPlatformAdmin = caller.groups.includes('platform-admin');
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new NotFound('Tenant not found');
  if (!isPlatformAdmin) {
    if (grant.role !== 'owner') throw new Forbidden('Only an owner of the tenant can move it');
    const consenting = parentId ?? tenant.parentId;
    if (consenting) await deps.tenantAccess.authorize(caller, consenting, 'tenants:createChild');
  }
  const moved = await deps.hierarchy.move(tenantId, parentId);
  if (moved.from !== moved.to) {
    deps.tenantAccess.invalidateAll();
    await auditInParents(deps, { ...moved, tenantId, userId: caller.userId, requestId });
  }
  const after = await deps.tenants.get(tenantId);
  if (!after) throw new NotFound('Tenant not found');
  return after;
}

/** Writes the move into each parent's audit log; the move has happened, so a refusal is logged, not thrown. */
async function auditInParents(
  deps: Pick<HierarchyDeps, 'events'>,
  move: { tenantId: string; from: string | null; to: string | null; userId: string; requestId: string },
) {
  const at = new Date().toISOString();
  const parents = [move.from, move.to].filter((id): id is string => id !== null);
  const events = parents.map((parentId) =>
    outgoing(AuditRecord, {
      tenantId: parentId,
      userId: move.userId,
      action: PARENT_CHANGED_AUDIT_ACTION,
      resource: `/tenants/${move.tenantId}/parent`,
      outcome: 'success',
      statusCode: 200,
      requestId: move.requestId,
      at,
      details: { tenantId: move.tenantId, from: move.from, to: move.to },
    }),
  );
  if (events.length === 0) return;
  const { failed } = await deps.events.publish(events);
  if (failed.length > 0)
    logger.warn('parent change audit records not published', { ...move, failed: failed.length });
}
