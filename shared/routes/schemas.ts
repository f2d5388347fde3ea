import * as z from 'zod';
import { builtInRoleSchema, platformGroupSchema } from '#shared/domain/permissions';

/** Tenant ids are opaque, unguessable strings: `t_` followed by 20 lower-case base32 characters. */
export const tenantIdSchema = z.string().regex(/^t_[a-z2-7]{20}$/, 'not a tenant id');

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string().optional(),
    details: z.array(z.unknown()).optional(),
  }),
});

export const healthSchema = z.object({ status: z.literal('ok'), stage: z.string() });

export const membershipSchema = z.object({
  tenantId: z.string(),
  tenantName: z.string(),
  role: builtInRoleSchema,
});

export const meSchema = z.object({
  userId: z.string(),
  email: z.string(),
  groups: z.array(platformGroupSchema),
  activeTenantId: z.string().nullable(),
  memberships: z.array(membershipSchema),
});

/** List query every paginated route accepts. */
export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(2048).optional(),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
