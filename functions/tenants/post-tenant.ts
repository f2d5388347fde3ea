import { ValidationFailed } from '#shared/errors';
import { httpHandler } from '#shared/http/handler';
import { routes } from '#shared/routes/table';
import { registerTenant } from '#shared/tenancy/register-tenant';
import { toTenantView } from '#shared/tenancy/views';

/** A client that may retry sends the same `Idempotency-Key`, and gets the same tenant back. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{1,100}$/;

export const handler = httpHandler(routes.registerTenant, async ({ caller, body, headers }, services) => {
  const key = headers['idempotency-key'];
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationFailed('Invalid Idempotency-Key header', {
      details: [
        {
          location: 'headers',
          path: 'idempotency-key',
          code: 'invalid_format',
          message: '1 to 100 of A-Z a-z 0-9 _ -',
        },
      ],
    });
  }
  const tenant = await registerTenant(services, { userId: caller.userId, email: caller.email }, body, key);
  return { status: 202, body: toTenantView(tenant), headers: { location: `/tenants/${tenant.id}` } };
});
