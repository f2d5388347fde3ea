import * as z from 'zod';
import { TENANT_STATUSES } from '#shared/control/control-records';
import { DATABASE_STATUSES } from '#shared/control/database-registry';
import {
  DATABASE_ID_PATTERN,
  INVITATION_ID_PATTERN,
  ROLE_ID_PATTERN,
  TENANT_ID_PATTERN,
} from '#shared/control/ids';
import { isolationSchema } from '#shared/domain/isolation';
import { builtInRoleSchema, permissionMatrixSchema, platformGroupSchema } from '#shared/domain/permissions';
import { PLAN_NAME_PATTERN } from '#shared/domain/plans';
import { registerTenantSchema, tenantNameSchema, tenantSettingsSchema } from '#shared/tenancy/settings';

/** Tenant ids are opaque, unguessable strings: `t_` followed by 20 lower-case base32 characters. */
export const tenantIdSchema = z.string().regex(TENANT_ID_PATTERN, 'not a tenant id');
export const roleIdSchema = z.string().regex(ROLE_ID_PATTERN, 'not a role id');
/** Cognito `sub`s are UUIDs; cognito-local's too. */
export const userIdSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'not a user id');

export const tenantParams = z.strictObject({ tenantId: tenantIdSchema });
export const memberParams = tenantParams.extend({ userId: userIdSchema });
export const roleParams = tenantParams.extend({ roleId: roleIdSchema });
export const memberRoleParams = memberParams.extend({ roleId: roleIdSchema });
export const databaseIdSchema = z.string().regex(DATABASE_ID_PATTERN, 'not a database id');
export const databaseParams = tenantParams.extend({ databaseId: databaseIdSchema });

/** `POST /tenants`: a name, any settings, and a parent for a child tenant (docs/tenant-hierarchies.md). */
export const registerTenantBodySchema = registerTenantSchema.extend({
  parentId: tenantIdSchema.optional(),
  /** Platform admins only: the plan (and so the isolation) the tenant starts on. */
  plan: z.string().regex(PLAN_NAME_PATTERN, 'a lower-case plan name').optional(),
});

/**
 * `PATCH /tenants/{id}`: any of the registration fields (not the parent: `PUT …/parent` moves a
 * tenant), and whether ancestors' roles apply (owners only), at least one.
 */
export const updateTenantSchema = registerTenantSchema
  .partial()
  .extend({ inheritAccess: z.boolean().optional() })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'nothing to change' });

export const createDatabaseSchema = z.strictObject({
  label: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'lower-case letters, digits, - and _, starting with a letter'),
});

export const databaseSchema = z.object({
  id: z.string(),
  label: z.string(),
  isPrimary: z.boolean(),
  status: z.enum(DATABASE_STATUSES),
  statusReason: z.string().nullable(),
  clusterId: z.string().nullable(),
  /** A database restored from a backup (issue 17): which backup, and which of its databases. */
  restoredFrom: z.object({ backupId: z.string(), databaseId: z.string() }).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const workflowStepSchema = z.object({
  name: z.string(),
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'CAUGHT']),
  enteredAt: z.string(),
  exitedAt: z.string().nullable(),
  retries: z.number(),
  error: z.string().nullable(),
});

/** Our error body. The error may carry more client-safe fields (a DomainError's details), hence loose. */
export const errorBodySchema = z.object({
  error: z.looseObject({
    code: z.string(),
    message: z.string(),
    requestId: z.string().optional(),
    /**
     * Validation issues (shared/core/validation.ts IssueDetail): where (`body`, `query`,
     * `params`, `header`), the dotted path, why; a batch's also name their row. Loose: a
     * refusal may add fields.
     */
    details: z
      .array(
        z.looseObject({
          location: z.string().optional(),
          path: z.string().optional(),
          code: z.string().optional(),
          message: z.string().optional(),
          row: z.number().optional(),
        }),
      )
      .optional(),
  }),
});

/**
 * API Gateway's own error body: it answers `{ "message": "Unauthorized" }` when the JWT
 * authorizer refuses a token, `Too Many Requests` when the stage throttles, and `Internal Server
 * Error` / `Service Unavailable` when the function fails or times out, without calling our code.
 */
export const gatewayErrorSchema = z.object({ message: z.string() });

export const healthSchema = z.object({ status: z.literal('ok'), stage: z.string() });

export const tenantStatusSchema = z.enum(TENANT_STATUSES);

export const membershipSchema = z.object({
  tenantId: z.string(),
  tenantName: z.string(),
  tenantStatus: tenantStatusSchema,
  role: builtInRoleSchema,
});

export const meSchema = z.object({
  userId: z.string(),
  email: z.string(),
  groups: z.array(platformGroupSchema),
  activeTenantId: z.string().nullable(),
  memberships: z.array(membershipSchema),
});

export const setActiveTenantSchema = z.strictObject({ tenantId: tenantIdSchema });

export const tenantSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: tenantStatusSchema,
  statusReason: z.string().nullable(),
  settings: tenantSettingsSchema,
  enabledModules: z.array(z.string()),
  /** The tenant's plan (`GET …/quotas` gives its limits and usage). */
  plan: z.string(),
  /** Where its data lives (docs/isolation-modes.md): databases of its own, or schemas in a pool. */
  isolation: isolationSchema,
  /** Its parent (null for a root) and the tenant ids from its root down to itself. */
  parentId: z.string().nullable(),
  path: z.array(z.string()).min(1),
  /** Whether roles held in the ancestors apply here (docs/tenant-hierarchies.md). */
  inheritAccess: z.boolean(),
  /** The cluster its new databases go to, pinned by a platform admin; null: placement decides (docs/clusters.md). */
  pinnedClusterId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The current attempt of a workflow and its step history. */
export const workflowAttemptSchema = z.object({
  /** 1 for the first execution; a re-run after it closed is the next attempt. */
  attempt: z.number().int().min(1),
  status: z.string(),
  startedAt: z.string(),
  stoppedAt: z.string().nullable(),
  error: z.string().nullable(),
  steps: z.array(workflowStepSchema),
});

/** A move of a tenant's databases (docs/isolation-modes.md, "Moves"). */
export const moveSchema = z.object({
  moveId: z.string(),
  tenantId: z.string(),
  /** The isolation the databases have once moved. */
  isolation: isolationSchema,
  /** `copying` → `frozen` (writes answer 503) → `switched` → `completed`; or `failed`, rolled back. */
  phase: z.enum(['copying', 'frozen', 'switched', 'completed', 'failed']),
  reason: z.string().nullable(),
  databases: z.array(
    z.object({
      databaseId: z.string(),
      fromClusterId: z.string(),
      toClusterId: z.string(),
      phase: z.string(),
      /** Once verified: each table's rows and sha256 (identical in source and copy), and one checksum. */
      verification: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const provisioningSchema = z.object({
  tenantId: z.string(),
  status: tenantStatusSchema,
  statusReason: z.string().nullable(),
  databases: z.array(databaseSchema),
  workflow: workflowAttemptSchema.nullable(),
  /** While the tenant is being offboarded: that workflow (`offboard-<tenantId>`), which offboards its subtree too. */
  offboarding: workflowAttemptSchema.nullable(),
  /** The tenant's latest move, if any, with its workflow's steps. */
  move: moveSchema.extend({ workflow: workflowAttemptSchema.nullable() }).nullable(),
});

/** `DELETE /tenants/{tenantId}`: `cascade=true` offboards the tenants below it too, leaves first. */
export const offboardQuerySchema = z.strictObject({
  cascade: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export const tenantSummarySchema = tenantSchema.pick({
  id: true,
  name: true,
  status: true,
  plan: true,
  isolation: true,
  parentId: true,
  createdAt: true,
});

export const memberSchema = z.object({
  userId: z.string(),
  email: z.string(),
  role: builtInRoleSchema,
  customRoles: z.array(z.object({ id: z.string(), name: z.string() })),
  joinedAt: z.string(),
  /** With `inherited=true`: the ancestor whose membership gives this role (absent when held here). */
  inheritedFrom: z.string().optional(),
});

export const inviteMemberSchema = z.strictObject({ email: z.email().max(254), role: builtInRoleSchema });
export const invitationIdSchema = z.string().regex(INVITATION_ID_PATTERN, 'not an invitation id');
export const invitationParams = tenantParams.extend({ invitationId: invitationIdSchema });
export const myInvitationParams = z.strictObject({ invitationId: invitationIdSchema });

const invitationFields = {
  id: z.string(),
  role: builtInRoleSchema,
  invitedBy: z.object({ userId: z.string(), email: z.string().nullable() }),
  createdAt: z.string(),
  expiresAt: z.string(),
};

/** A pending invitation as the tenant sees it; `expired` ones stay listed until revoked. */
export const invitationSchema = z.object({
  ...invitationFields,
  email: z.string(),
  status: z.enum(['pending', 'expired']),
});

/** A pending invitation as its invitee sees it. */
export const myInvitationSchema = z.object({
  ...invitationFields,
  tenantId: z.string(),
  tenantName: z.string(),
});

export const changeMemberRoleSchema = z.strictObject({ role: builtInRoleSchema });

export const customRoleBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(64),
  permissions: permissionMatrixSchema,
});

export const customRoleSchema = z.object({
  id: z.string(),
  name: z.string(),
  permissions: permissionMatrixSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** List query every paginated route accepts. */
export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(2048).optional(),
});

/** `GET …/members`: a page; `inherited=true` adds the members whose roles come from ancestors. */
export const listMembersQuerySchema = pageQuerySchema.extend({
  inherited: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export { tenantNameSchema };
