import * as z from 'zod';
import { services } from '#shared/runtime';
import { stepHandler } from '#shared/workflows/step';

const input = z.object({
  tenantId: z.string(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

/** Compensation: undo what the saga made, then mark the tenant `failed` with the reason. */
export const handler = stepHandler('CompensateTenant', input, async ({ tenantId, error }) => {
  const reason = `Provisioning failed: ${error?.Error ?? 'unknown error'}`;
  await services().directory.transition(tenantId, ['provisioning'], 'failed', reason);
  return { compensated: true, reason };
});
