import * as z from 'zod';
import { manifestViewSchema } from '#shared/backups/manifest';
import { BACKUP_STATUSES } from '#shared/control/backup-repository';
import { BACKUP_ID_PATTERN } from '#shared/control/ids';
import { error, inTenant } from '#shared/routes/responses';
import {
  databaseIdSchema,
  databaseSchema,
  pageQuerySchema,
  pageSchema,
  tenantIdSchema,
  tenantParams,
  tenantSchema,
  workflowAttemptSchema,
} from '#shared/routes/schemas';
import { defineRoute, type RouteSpec } from '#shared/routes/types';
import { tenantNameSchema } from '#shared/tenancy/settings';

export const backupIdSchema = z.string().regex(BACKUP_ID_PATTERN, 'not a backup id');
export const backupParams = tenantParams.extend({ backupId: backupIdSchema });

/** A tenant has at most this many databases in one backup request (plans allow fewer). */
export const MAX_BACKUP_DATABASES = 100;

/** `POST …/backups`: `{}` backs up every database of the tenant; `databaseIds` some of them. */
export const createBackupSchema = z.strictObject({
  databaseIds: z
    .array(databaseIdSchema)
    .min(1)
    .max(MAX_BACKUP_DATABASES)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'each database once' })
    .optional(),
});

export const backupSchema = z.object({
  id: z.string(),
  status: z.enum(BACKUP_STATUSES),
  /** `request`, `schedule` (the daily backup) or `clone` (the fresh backup a clone copies). */
  trigger: z.enum(['request', 'schedule', 'clone']),
  startedAt: z.string(),
  completedAt: z.string().nullable(),
  /** Why it failed. */
  reason: z.string().optional(),
  /** When retention deletes it (null: kept until the tenant is offboarded). */
  expiresAt: z.string().nullable(),
  /** Uncompressed NDJSON bytes of its tables, once completed. */
  bytes: z.number().int().nullable(),
  manifest: manifestViewSchema.nullable(),
  /** The backup's workflow: its current attempt and step history (single gets only). */
  workflow: workflowAttemptSchema.nullable().optional(),
});

/** `POST …/backups/{backupId}/restore`: which of the backup's databases to restore (into a new one). */
export const restoreBackupSchema = z.strictObject({ databaseId: databaseIdSchema });

export const restoreSchema = databaseSchema.extend({
  /** The new database's id (also `id`): the original is untouched. */
  databaseId: z.string(),
  backupId: z.string(),
  sourceDatabaseId: z.string(),
});

export const CLONE_PARTS = ['settings', 'modules', 'roles', 'data'] as const;

/** `POST …/clone`: a new tenant from this one; members are never copied. */
export const cloneTenantSchema = z.strictObject({
  name: tenantNameSchema,
  include: z
    .array(z.enum(CLONE_PARTS))
    .max(CLONE_PARTS.length)
    .refine((parts) => new Set(parts).size === parts.length, { message: 'each part once' })
    .default([...CLONE_PARTS]),
  parentId: tenantIdSchema.optional(),
});

/** Per-tenant backups (issue 17; docs/backups.md): taking them and reading them. */
export const backupRoutes = {
  createBackup: defineRoute({
    operationId: 'createBackup',
    method: 'POST',
    path: '/tenants/{tenantId}/backups',
    summary:
      "Back up every database of the tenant (`{}`) or some (`databaseIds`): one consistent snapshot per database, with its DDL, and the tenant's settings, modules and roles. Runs as a workflow; send an Idempotency-Key header to retry safely.",
    tags: ['backups'],
    access: { kind: 'tenant', permission: 'backups:write' },
    handler: 'backups/post-backup',
    needs: ['controlDb', 'workflows', 'telemetry'],
    idempotent: true,
    request: { params: tenantParams, body: createBackupSchema },
    responses: {
      202: { description: 'Running', schema: backupSchema },
      ...inTenant,
      404: error('Unknown tenant or database, or one the caller is not a member of'),
      409: error(
        'The tenant is not active, a database is not active, or a backup is already running (`backup_running`)',
      ),
    },
  }),
  listBackups: defineRoute({
    operationId: 'listBackups',
    method: 'GET',
    path: '/tenants/{tenantId}/backups',
    summary: "The tenant's backups, newest first, in pages (deleted ones are not listed)",
    tags: ['backups'],
    access: { kind: 'tenant', permission: 'backups:read' },
    handler: 'backups/list-backups',
    needs: ['controlDb', 'telemetry'],
    request: { params: tenantParams, query: pageQuerySchema },
    responses: {
      200: { description: 'A page of backups', schema: pageSchema(backupSchema) },
      ...inTenant,
    },
  }),
  getBackup: defineRoute({
    operationId: 'getBackup',
    method: 'GET',
    path: '/tenants/{tenantId}/backups/{backupId}',
    summary: 'One backup: its status, manifest and workflow',
    tags: ['backups'],
    access: { kind: 'tenant', permission: 'backups:read' },
    handler: 'backups/get-backup',
    needs: ['controlDb', 'workflowHistory', 'telemetry'],
    request: { params: backupParams },
    responses: {
      200: { description: 'The backup', schema: backupSchema },
      ...inTenant,
      404: error("Unknown or deleted backup, another tenant's, or a tenant the caller is not a member of"),
    },
  }),
} as const satisfies Record<string, RouteSpec>;

/** Restoring a backup into a new database of the tenant (issue 17). */
export const restoreRoutes = {
  restoreBackup: defineRoute({
    operationId: 'restoreBackup',
    method: 'POST',
    path: '/tenants/{tenantId}/backups/{backupId}/restore',
    summary:
      'Restore one database of a completed backup into a NEW database of the tenant (`restoring` until its rows are loaded and verified, then `active`); the original is untouched. Send an Idempotency-Key header to retry safely.',
    tags: ['backups'],
    access: { kind: 'tenant', permission: 'backups:write' },
    handler: 'backups/post-restore',
    needs: ['controlDb', 'workflows', 'plans', 'events', 'telemetry'],
    idempotent: true,
    request: { params: backupParams, body: restoreBackupSchema },
    responses: {
      202: { description: 'Restoring', schema: restoreSchema },
      ...inTenant,
      403: error(
        'Not allowed in this tenant, or the databases quota of its plan is reached (`quota_exceeded`): nothing was created',
      ),
      404: error("Unknown backup, another tenant's, or a database the backup does not hold"),
      409: error('The backup is not completed, or the tenant is not active'),
    },
  }),
} as const satisfies Record<string, RouteSpec>;

/** Cloning a tenant (issue 17): a new tenant from a fresh backup of this one. */
export const cloneRoutes = {
  cloneTenant: defineRoute({
    operationId: 'cloneTenant',
    method: 'POST',
    path: '/tenants/{tenantId}/clone',
    summary:
      'A new tenant copied from this one: settings, modules, custom roles and (`data`) every database with its rows, from a fresh backup; the caller becomes its owner, members are never copied. Needs `tenant:read` and `backups:read` here (and `tenants:createChild` in `parentId`). Send an Idempotency-Key header to retry safely.',
    tags: ['backups'],
    access: { kind: 'tenant', permission: 'backups:read' },
    handler: 'backups/post-clone',
    needs: ['controlDb', 'workflows', 'plans', 'events', 'telemetry'],
    idempotent: true,
    request: { params: tenantParams, body: cloneTenantSchema },
    responses: {
      202: { description: 'The new tenant, provisioning', schema: tenantSchema },
      ...inTenant,
      403: error('No `tenant:read` and `backups:read` here, or no `tenants:createChild` in the parent'),
      404: error('Unknown tenant or parent, or one the caller is not a member of'),
      409: error('The tenant (or the parent) is not active'),
    },
  }),
} as const satisfies Record<string, RouteSpec>;
