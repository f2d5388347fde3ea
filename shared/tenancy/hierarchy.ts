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
/** The audit action written in the parent's log when a child is registered under it. */
export const CHILD_CREATED_AUDIT_ACTION = 'tenants.childCreated';

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
    const details = { tenantId, from: moved.from, to: moved.to };
    const parents = [moved.from, moved.to].filter((id): id is string => id !== null);
    await auditInParents(
      deps,
      { userId: caller.userId, requestId },
      parents.map((parentId) => ({
        parentId,
        action: PARENT_CHANGED_AUDIT_ACTION,
        resource: `/tenants/${tenantId}/parent`,
        statusCode: 200,
        details,
      })),
    );
  }
  const after = await deps.tenants.get(tenantId);
  if (!after) throw new NotFound('Tenant not found');
  return after;
}

/** An entry of a parent's audit log about one of its children. */
export interface ParentAuditEntry {
  readonly parentId: string;
  readonly action: string;
  readonly resource: string;
  readonly statusCode: number;
  readonly details: Record<string, unknown>;
}

/**
 * Writes what happened to a child into its parents' audit logs (the request's own record is in
 * the child's, or nowhere for a registration). The change has happened, so a refusal of the bus
 * is logged, not thrown.
 */
export async function auditInParents(
  deps: Pick<HierarchyDeps, 'events'>,
  actor: { userId: string; requestId: string },
  entries: readonly ParentAuditEntry[],
) {
  if (entries.length === 0) return;
  const at = new Date().toISOString();
  const events = entries.map((entry) =>
    outgoing(AuditRecord, {
      tenantId: entry.parentId,
      userId: actor.userId,
      action: entry.action,
      resource: entry.resource,
      outcome: 'success',
      statusCode: entry.statusCode,
      requestId: actor.requestId,
      at,
      details: entry.details,
    }),
  );
  const { failed } = await deps.events.publish(events);
  if (failed.length > 0) {
    logger.warn('audit records of a child not published', {
      ...actor,
      actions: entries.map((e) => e.action),
    });
  }
}

/** A child registered (or cloned) under a parent, audited in the parent's log; nothing for a root. */
export async function auditChildCreated(
  deps: Pick<HierarchyDeps, 'events'>,
  actor: { userId: string; requestId: string },
  child: { id: string; name: string; parentId: string | null },
  details: Record<string, unknown> = {},
) {
  if (!child.parentId) return;
  await auditInParents(deps, actor, [
    {
      parentId: child.parentId,
      action: CHILD_CREATED_AUDIT_ACTION,
      resource: '/tenants',
      statusCode: 202,
      details: { tenantId: child.id, name: child.name, ...details },
    },
  ]);
}
