import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { functionHandler } from '#shared/composition/handler';
import { logger } from '#shared/core/logger';
import { registerTenant } from '#shared/tenancy/register-tenant';
import { tenantNameSchema } from '#shared/tenancy/settings';

/**
 * Cognito post-confirmation trigger: records the user, and when the sign-up carried a tenant
 * name (`custom:tenant_name`) registers that tenant with the user as its owner.
 */
export const handler = functionHandler(
  async (event: PostConfirmationTriggerEvent, services): Promise<PostConfirmationTriggerEvent> => {
    // Confirming a forgotten password also fires this trigger: nothing to record then.
    if (event.triggerSource !== 'PostConfirmation_ConfirmSignUp') return event;
    const { sub, email } = event.request.userAttributes;
    if (!sub || !email) throw new Error('Confirmed user without sub or email');
    const { users, memberships } = services;
    await users.upsert(sub, email);
    const tenantName = tenantNameSchema.safeParse(event.request.userAttributes['custom:tenant_name']);
    // Cognito retries a trigger that timed out: a user who already belongs to a tenant is not
    // given another one. (Two retries racing each other could still both register; rare, visible.)
    if (tenantName.success && (await memberships.ofUser(sub)).length === 0) {
      const tenant = await registerTenant(services, { userId: sub, email }, { name: tenantName.data });
      logger.info('tenant registered at sign-up', { tenantId: tenant.id });
    }
    return event;
  },
);
