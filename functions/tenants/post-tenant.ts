import { Forbidden } from '#shared/errors';
import { httpHandler } from '#shared/http/handler';
import { coreRoutes } from '#shared/routes/core-routes';
import { auditChildCreated } from '#shared/tenancy/hierarchy';
import { registerTenant } from '#shared/tenancy/register-tenant';
import { toTenantView } from '#shared/tenancy/views';

/**
 * The route is idempotent (its Idempotency-Key is checked and its answer kept by the middleware,
 * shared/http/idempotency.ts); the key also goes to the registration's own transaction, so that a
 * re-run after an attempt that committed answers the same tenant (tenant_registrations).
 */
export const handler = httpHandler(
  coreRoutes.registerTenant,
  async ({ caller, body, idempotency, requestId }, services) => {
    // A child needs tenants:createChild in its parent: a foreign parent is a 404, as any tenant.
    if (body.parentId) await services.tenantAccess.authorize(caller, body.parentId, 'tenants:createChild');
    // Choosing a plan (and its isolation) is a platform admin's: others start on the default's.
    if (body.plan !== undefined && !caller.groups.includes('platform-admin')) {
      throw new Forbidden('Only platform admins choose the plan of a new tenant');
    }
    const owner = { userId: caller.userId, email: caller.email };
    const tenant = await registerTenant(services, owner, body, idempotency?.key);
    await auditChildCreated(services, { userId: caller.userId, requestId }, tenant);
    return { status: 202, body: toTenantView(tenant), headers: { location: `/tenants/${tenant.id}` } };
  },
);
