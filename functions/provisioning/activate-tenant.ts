import * as z from 'zod';
import { services } from '#shared/runtime';
import { stepHandler } from '#shared/workflows/step';

/** Last step: the tenant becomes `active`. Idempotent: an already active tenant stays so. */
export const handler = stepHandler(
  'ActivateTenant',
  z.object({ tenantId: z.string() }),
  async ({ tenantId }) => {
    const changed = await services().directory.transition(tenantId, ['provisioning', 'active'], 'active');
    return { activated: changed };
  },
);
