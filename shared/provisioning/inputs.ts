import * as z from 'zod';
import { DATABASE_ID_PATTERN, TENANT_ID_PATTERN } from '#shared/control/ids';

export const databaseStepInput = z.object({
  tenantId: z.string().regex(TENANT_ID_PATTERN),
  databaseId: z.string().regex(DATABASE_ID_PATTERN),
});

export const tenantStepInput = z.object({ tenantId: z.string().regex(TENANT_ID_PATTERN) });

export const compensationInput = databaseStepInput.extend({
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
