import * as z from 'zod';
import { tableParamSchema } from '#shared/data/identifiers';
import { rowIdSchema, rowsQuerySchema } from '#shared/data/row-query';
import { alterTableSchema, createTableSchema } from '#shared/data/tables';
import { MODULE_ID_PATTERN, MODULE_IDS } from '#shared/modules/catalog';
import { DEFAULT_WAVE_SIZE, UPGRADE_ID_PATTERN } from '#shared/modules/upgrades';
import {
  databaseIdSchema,
  databaseParams,
  errorBodySchema,
  pageQuerySchema,
  pageSchema,
  tenantParams,
} from '#shared/routes/schemas';
import { defineRoute, type RouteSpec } from '#shared/routes/types';

const error = (description: string) => ({ description, schema: errorBodySchema });
const inTenant = {
  400: error('Invalid input'),
  401: error('No valid token'),
  403: error('Not allowed in this tenant'),
  404: error('Unknown tenant, database, table or row, or one of another tenant'),
} as const;
const forPlatformAdmins = {
  400: error('Invalid input'),
  401: error('No valid token'),
  403: error('Platform admins only'),
  404: error('Unknown module or upgrade'),
} as const;
const noContent = { 204: { description: 'Done' } } as const;

export const tableParams = databaseParams.extend({ table: tableParamSchema });
export const rowParams = tableParams.extend({ rowId: rowIdSchema });
export const moduleIdSchema = z.string().regex(MODULE_ID_PATTERN, 'not a module id');
export const moduleParams = tenantParams.extend({ moduleId: moduleIdSchema });

const columnSchema = z.object({
  name: z.string(),
  type: z.string(),
  nullable: z.boolean(),
  unique: z.boolean(),
  default: z.unknown().optional(),
  system: z.boolean(),
});
const tableSchema = z.object({
  name: z.string(),
  module: z.string().nullable(),
  columns: z.array(columnSchema),
  primaryKey: z.array(z.string()),
  foreignKeys: z.array(
    z.object({
      name: z.string(),
      columns: z.array(z.string()),
      references: z.object({ table: z.string(), columns: z.array(z.string()) }),
      onDelete: z.string(),
    }),
  ),
  indexes: z.array(z.object({ name: z.string(), columns: z.array(z.string()), unique: z.boolean() })),
  estimatedRows: z.number(),
});
const tableSummarySchema = z.object({
  name: z.string(),
  module: z.string().nullable(),
  estimatedRows: z.number(),
});
const rowSchema = z.record(z.string(), z.unknown());
const rowBodySchema = z.record(z.string(), z.unknown());

const moduleSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  version: z.number(),
  dependencies: z.array(z.string()),
  requirements: z.object({
    fields: z.array(z.string()),
    met: z.boolean(),
    missingFields: z.array(z.string()),
  }),
  enabled: z.boolean(),
  databases: z.array(z.object({ databaseId: z.string(), enabled: z.boolean(), version: z.number() })),
  tables: z.array(z.unknown()),
});
export const enableModuleSchema = z.strictObject({
  moduleId: z.enum(MODULE_IDS),
  databaseId: databaseIdSchema,
});
export const disableModuleQuerySchema = z.strictObject({
  databaseId: databaseIdSchema.optional(),
  dropData: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});
const moduleStateSchema = z.object({
  moduleId: z.string(),
  databaseId: z.string(),
  enabled: z.boolean(),
  version: z.number(),
  applied: z.array(z.number()),
});
export const startUpgradeSchema = z.strictObject({
  waveSize: z.number().int().min(1).max(1000).default(DEFAULT_WAVE_SIZE),
});
const upgradeSchema = z.object({
  id: z.string(),
  moduleId: z.string(),
  toVersion: z.number(),
  waveSize: z.number(),
  status: z.enum(['running', 'completed']),
  createdBy: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});

/**
 * Routes of tenant data (tables, rows) and modules, merged into the route table. Every statement
 * they run goes to the tenant's own database, as the tenant's own role.
 */
export const dataRoutes = {
  listTables: defineRoute({
    operationId: 'listTables',
    method: 'GET',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables',
    summary: "The database's tables, by name (the platform's tenantry_ tables are hidden)",
    tags: ['tables'],
    access: { kind: 'tenant', permission: 'tables:read' },
    handler: 'tables/list-tables',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    request: { params: databaseParams, query: pageQuerySchema },
    responses: {
      200: { description: 'A page of tables', schema: pageSchema(tableSummarySchema) },
      ...inTenant,
    },
  }),
  createTable: defineRoute({
    operationId: 'createTable',
    method: 'POST',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables',
    summary: 'Create a table: typed columns, plus id, created_at and updated_at',
    tags: ['tables'],
    access: { kind: 'tenant', permission: 'tables:write' },
    handler: 'tables/post-table',
    needs: ['controlDb', 'tenantData', 'plans', 'events', 'telemetry'],
    growsStorage: true,
    idempotent: true,
    request: { params: databaseParams, body: createTableSchema },
    responses: {
      201: { description: 'The table, as the catalog describes it', schema: tableSchema },
      ...inTenant,
      403: error(
        'Not allowed in this tenant, or the tablesPerDatabase quota of its plan is reached (`quota_exceeded`, with `quota`, `limit`, `used`): nothing was created',
      ),
      409: error('A table with this name exists, or the database is not active'),
    },
  }),
  describeTable: defineRoute({
    operationId: 'describeTable',
    method: 'GET',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}',
    summary: 'Columns, keys and indexes, from the database catalog',
    tags: ['tables'],
    access: { kind: 'tenant', permission: 'tables:read' },
    handler: 'tables/get-table',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    request: { params: tableParams },
    responses: { 200: { description: 'The table', schema: tableSchema }, ...inTenant },
  }),
  alterTable: defineRoute({
    operationId: 'alterTable',
    method: 'PATCH',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}',
    summary: 'Add, drop and rename columns, in one transaction',
    tags: ['tables'],
    access: { kind: 'tenant', permission: 'tables:write' },
    handler: 'tables/patch-table',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    request: { params: tableParams, body: alterTableSchema },
    responses: {
      200: { description: 'The table', schema: tableSchema },
      ...inTenant,
      409: error("The change conflicts with the table's data, or the table belongs to an enabled module"),
    },
  }),
  dropTable: defineRoute({
    operationId: 'dropTable',
    method: 'DELETE',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}',
    summary: 'Drop a table (not one of an enabled module, nor one other tables refer to)',
    tags: ['tables'],
    access: { kind: 'tenant', permission: 'tables:delete' },
    handler: 'tables/delete-table',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    request: { params: tableParams },
    responses: {
      ...noContent,
      ...inTenant,
      409: error('Referenced by another table, or owned by an enabled module'),
    },
  }),
  listRows: defineRoute({
    operationId: 'listRows',
    method: 'GET',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows',
    summary:
      'Rows: filter[column][operator]=value, sort=column or -column, keyset cursor; a page stops at limit rows or 512 KiB',
    tags: ['rows'],
    access: { kind: 'tenant', permission: 'rows:read' },
    handler: 'rows/list-rows',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    request: { params: tableParams, query: rowsQuerySchema },
    responses: { 200: { description: 'A page of rows', schema: pageSchema(rowSchema) }, ...inTenant },
  }),
  insertRow: defineRoute({
    operationId: 'insertRow',
    method: 'POST',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows',
    summary: "Insert a row, checked against the table's columns",
    tags: ['rows'],
    access: { kind: 'tenant', permission: 'rows:write' },
    handler: 'rows/post-row',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    growsStorage: true,
    idempotent: true,
    request: { params: tableParams, body: rowBodySchema },
    responses: {
      201: { description: 'The row', schema: rowSchema },
      ...inTenant,
      409: error('A unique or foreign key constraint refused it'),
    },
  }),
  getRow: defineRoute({
    operationId: 'getRow',
    method: 'GET',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows/{rowId}',
    summary: 'One row',
    tags: ['rows'],
    access: { kind: 'tenant', permission: 'rows:read' },
    handler: 'rows/get-row',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    request: { params: rowParams },
    responses: { 200: { description: 'The row', schema: rowSchema }, ...inTenant },
  }),
  patchRow: defineRoute({
    operationId: 'patchRow',
    method: 'PATCH',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows/{rowId}',
    summary: 'Change some columns of a row (updated_at is set)',
    tags: ['rows'],
    access: { kind: 'tenant', permission: 'rows:write' },
    handler: 'rows/patch-row',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    request: { params: rowParams, body: rowBodySchema },
    responses: {
      200: { description: 'The row', schema: rowSchema },
      ...inTenant,
      409: error('A unique or foreign key constraint refused it'),
    },
  }),
  deleteRow: defineRoute({
    operationId: 'deleteRow',
    method: 'DELETE',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows/{rowId}',
    summary: 'Delete a row',
    tags: ['rows'],
    access: { kind: 'tenant', permission: 'rows:delete' },
    handler: 'rows/delete-row',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    request: { params: rowParams },
    responses: { ...noContent, ...inTenant, 409: error('Other rows refer to it') },
  }),
  listModules: defineRoute({
    operationId: 'listModules',
    method: 'GET',
    path: '/tenants/{tenantId}/modules',
    summary: "The module catalog: each module's state per database and whether its requirements are met",
    tags: ['modules'],
    access: { kind: 'tenant', permission: 'modules:read' },
    handler: 'modules/list-modules',
    needs: ['controlDb', 'telemetry'],
    request: { params: tenantParams },
    responses: {
      200: { description: 'The catalog', schema: z.object({ items: z.array(moduleSchema) }) },
      ...inTenant,
    },
  }),
  enableModule: defineRoute({
    operationId: 'enableModule',
    method: 'POST',
    path: '/tenants/{tenantId}/modules',
    summary: 'Enable a module in one database: its tables are created in one transaction (idempotent)',
    tags: ['modules'],
    access: { kind: 'tenant', permission: 'modules:write' },
    handler: 'modules/post-module',
    needs: ['controlDb', 'tenantData', 'events', 'telemetry'],
    idempotent: true,
    request: { params: tenantParams, body: enableModuleSchema },
    responses: {
      201: { description: 'Enabled', schema: moduleStateSchema },
      200: { description: 'Already enabled', schema: moduleStateSchema },
      ...inTenant,
      400: error('Invalid input, or requirements_unmet with missingFields'),
      409: error('dependencies_missing with missingModules, or a table of the module exists already'),
    },
  }),
  disableModule: defineRoute({
    operationId: 'disableModule',
    method: 'DELETE',
    path: '/tenants/{tenantId}/modules/{moduleId}',
    summary:
      'Disable a module (in every database that has it, or ?databaseId=); data kept unless ?dropData=true',
    tags: ['modules'],
    access: { kind: 'tenant', permission: 'modules:write' },
    handler: 'modules/delete-module',
    needs: ['controlDb', 'tenantData', 'events', 'telemetry'],
    request: { params: moduleParams, query: disableModuleQuerySchema },
    responses: {
      200: {
        description: 'Disabled',
        schema: z.object({
          moduleId: z.string(),
          databases: z.array(
            z.object({ databaseId: z.string(), enabled: z.boolean(), dataDropped: z.boolean() }),
          ),
        }),
      },
      ...inTenant,
      409: error('module_in_use: an enabled module depends on it'),
    },
  }),
  startModuleUpgrade: defineRoute({
    operationId: 'startModuleUpgrade',
    method: 'POST',
    path: '/modules/{moduleId}/upgrades',
    summary: 'Upgrade every tenant database that has the module to its latest version, in waves (workflow)',
    tags: ['modules'],
    access: { kind: 'platform', groups: ['platform-admin'] },
    handler: 'modules/post-upgrade',
    needs: ['controlDb', 'workflows', 'telemetry'],
    idempotent: true,
    request: { params: z.strictObject({ moduleId: moduleIdSchema }), body: startUpgradeSchema },
    responses: { 202: { description: 'Started', schema: upgradeSchema }, ...forPlatformAdmins },
  }),
  getModuleUpgrade: defineRoute({
    operationId: 'getModuleUpgrade',
    method: 'GET',
    path: '/modules/{moduleId}/upgrades/{upgradeId}',
    summary: 'An upgrade: status, counts, and each database with its wave and outcome (paginated)',
    tags: ['modules'],
    access: { kind: 'platform', groups: ['platform-admin'] },
    handler: 'modules/get-upgrade',
    needs: ['controlDb', 'telemetry'],
    request: {
      params: z.strictObject({
        moduleId: moduleIdSchema,
        upgradeId: z.string().regex(UPGRADE_ID_PATTERN, 'not an upgrade id'),
      }),
      query: pageQuerySchema,
    },
    responses: {
      200: {
        description: 'The upgrade',
        schema: upgradeSchema.extend({
          summary: z.object({ pending: z.number(), upgraded: z.number(), failed: z.number() }),
          targets: z.array(
            z.object({
              tenantId: z.string(),
              databaseId: z.string(),
              wave: z.number(),
              fromVersion: z.number(),
              status: z.string(),
              error: z.string().nullable(),
              finishedAt: z.string().nullable(),
            }),
          ),
          nextCursor: z.string().nullable(),
        }),
      },
      ...forPlatformAdmins,
    },
  }),
} as const satisfies Record<string, RouteSpec>;
