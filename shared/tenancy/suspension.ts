import * as z from 'zod';
import type { ControlTenantAccess } from '#shared/control/access-policy';
import type { TenantRecord } from '#shared/control/control-records';
import type { TenantRepository } from '#shared/control/tenant-repository';
import { Conflict, NotFound, ServiceUnavailable } from '#shared/errors';
import { TenantResumed, TenantSuspended } from '#shared/events/events';
import { type EventPublisher, outgoing } from '#shared/ports/event-publisher';

/** Longest reason kept: it is shown to the tenant's members on `GET /tenants/{id}`. */
export const MAX_STATUS_REASON = 500;

export const tenantStatusChangeSchema = z.strictObject({
  status: z.enum(['suspended', 'active']),
  reason: z.string().trim().min(1, 'a reason is required').max(MAX_STATUS_REASON),
});
export type TenantStatusChange = z.infer<typeof tenantStatusChangeSchema>;

export interface SuspensionDeps {
  readonly tenants: Pick<TenantRepository, 'get' | 'transition'>;
  readonly tenantAccess: Pick<ControlTenantAccess, 'invalidate'>;
  readonly events: EventPublisher;
}

const opposite = { suspended: 'active', active: 'suspended' } as const;

/**
 * Suspends or resumes a tenant (platform admins). Only `active ⇄ suspended`: a tenant still
 * provisioning, failed or being offboarded is a 409, an unknown or deleted one a 404. Asking for
 * the status the tenant already has changes nothing (the first reason stays) and announces it
 * again: events are at least once, and a retry after a refused publish must still announce it.
 */
export async function changeTenantStatus(
  deps: SuspensionDeps,
  tenantId: string,
  change: TenantStatusChange,
  byUserId: string,
): Promise<TenantRecord> {
  const current = await deps.tenants.get(tenantId);
  if (!current || current.status === 'deleted') throw new NotFound('Tenant not found');
  // The conditional update decides, so two admins racing cannot both move a tenant out of a state.
  const moved = await deps.tenants.transition(
    tenantId,
    [opposite[change.status]],
    change.status,
    change.reason,
  );
  // Forget cached answers at once, also before a refusal (the status may have moved under us).
  deps.tenantAccess.invalidate(tenantId);
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new NotFound('Tenant not found');
  if (!moved && tenant.status !== change.status) {
    throw new Conflict(`A tenant that is ${tenant.status} can be neither suspended nor resumed`, {
      status: tenant.status,
    });
  }
  const definition = change.status === 'suspended' ? TenantSuspended : TenantResumed;
  const event = outgoing(definition, {
    tenantId,
    reason: tenant.statusReason ?? change.reason,
    byUserId,
    at: new Date().toISOString(),
  });
  const { failed } = await deps.events.publish([event]);
  // The status has changed; a refused event is a 503 so that the caller retries (and re-announces).
  if (failed.length > 0)
    throw new ServiceUnavailable(`The change was made but not announced yet; repeat the request`);
  return tenant;
}
