import { Forbidden } from '#shared/errors';
import { httpHandler } from '#shared/http/handler';
import { cloneRoutes } from '#shared/routes/backup-routes';
import { cloneTenant } from '#shared/tenancy/clone';
import { auditChildCreated } from '#shared/tenancy/hierarchy';
import { toTenantView } from '#shared/tenancy/views';

/**
 * A clone reads everything the source holds: `backups:read` (the route's permission) and
 * `tenant:read`; as a child, `tenants:createChild` in its parent (a foreign parent is a 404). The
 * Idempotency-Key also names the clone's registration, so a re-run after an attempt that
 * committed answers the same tenant.
 */
export const handler = httpHandler(
  cloneRoutes.cloneTenant,
  async ({ caller, grant, body, idempotency, requestId }, services) => {
    if (!grant.permissions.has('tenant:read'))
      throw new Forbidden('Cloning needs tenant:read and backups:read');
    if (body.parentId) await services.tenantAccess.authorize(caller, body.parentId, 'tenants:createChild');
    const owner = { userId: caller.userId, email: caller.email };
    const tenant = await cloneTenant(services, owner, grant.tenantId, body, idempotency?.key);
    await auditChildCreated(services, { userId: caller.userId, requestId }, tenant, {
      clonedFrom: grant.tenantId,
    });
    return { status: 202, body: toTenantView(tenant), headers: { location: `/tenants/${tenant.id}` } };
  },
);
