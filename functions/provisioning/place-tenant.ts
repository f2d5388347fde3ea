import * as z from 'zod';
import { services } from '#shared/runtime';
import { stepHandler } from '#shared/workflows/step';

export class TenantNotProvisioning extends Error {
  override readonly name = 'TenantNotProvisioning';
}

/** Step 1: check the tenant awaits provisioning and choose its cluster (one cluster for now). */
export const handler = stepHandler(
  'PlaceTenant',
  z.object({ tenantId: z.string() }),
  async ({ tenantId }) => {
    const tenant = await services().directory.getTenant(tenantId);
    if (!tenant || tenant.status !== 'provisioning') {
      throw new TenantNotProvisioning(`Tenant ${tenantId} is not awaiting provisioning`);
    }
    return { clusterId: 'primary' };
  },
);
