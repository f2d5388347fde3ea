import * as z from 'zod';
import { EXPORT_HEADER } from '#shared/exports/export-lines';
import { MONTH_PATTERN } from '#shared/exports/months';
import { errorBodySchema, tenantIdSchema, tenantParams } from '#shared/routes/schemas';
import { defineRoute, type RouteSpec } from '#shared/routes/types';

const error = (description: string) => ({ description, schema: errorBodySchema });
const inTenant = {
  400: error('Invalid query'),
  401: error('No valid token'),
  403: error('Not allowed in this tenant'),
  404: error('Unknown tenant, or one the caller is not a member of'),
} as const;
const forFinance = {
  400: error('Invalid query'),
  401: error('No valid token'),
  403: error('Finance and platform admins only'),
} as const;

const DAY_MS = 86_400_000;
const isoTimestamp = z.iso.datetime({ offset: true });
const isoDay = z.iso.date();
const month = z.string().regex(MONTH_PATTERN, 'a month as YYYY-MM');
const resourceType = z.string().regex(/^[a-z][a-z0-9_]{1,40}$/, 'a resource type such as api_calls');

const ordered = (value: { from: string; to: string }) => Date.parse(value.from) <= Date.parse(value.to);
const spanAtMost = (days: number) => (value: { from: string; to: string }) =>
  Date.parse(value.to) - Date.parse(value.from) <= days * DAY_MS;

/**
 * Fills in the range a client left open (`to` = now, `from` = `to` minus the default span), so
 * that order and span are checked on the range actually queried, whichever bounds were sent.
 */
function withRange<T extends { from?: string; to?: string }>(defaultDays: number, precision: 'time' | 'day') {
  const cut = (iso: string) => (precision === 'day' ? iso.slice(0, 10) : iso);
  return (value: T) => {
    const to = value.to ?? cut(new Date().toISOString());
    const fromDefault = new Date(
      Date.parse(to) - (precision === 'day' ? defaultDays - 1 : defaultDays) * DAY_MS,
    );
    return { ...value, to, from: value.from ?? cut(fromDefault.toISOString()) };
  };
}

/** The audit list's keyset position: the sort key of the last record (`<at>#<eventId>`). */
export const auditCursorKey = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T[0-9:.]+Z#[A-Za-z0-9-]{1,64}$/, 'not a cursor of this list');

export const auditQuerySchema = z
  .strictObject({
    from: isoTimestamp.optional(),
    to: isoTimestamp.optional(),
    action: z
      .string()
      .regex(/^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/, 'an action such as members.invite')
      .optional(),
    userId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,128}$/, 'a user id')
      .optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().min(1).max(512).optional(),
  })
  .transform(withRange(30, 'time'))
  .refine(ordered, { message: '`from` must not be after `to`', path: ['from'] });

export const usageQuerySchema = z
  .strictObject({
    granularity: z.enum(['day', 'month']).default('day'),
    from: isoDay.optional(),
    to: isoDay.optional(),
    resourceType: resourceType.optional(),
    include: z
      .enum(['descendants'])
      .optional()
      .describe(
        'descendants: the tenant and every descendant (offboarded ones and those with inheritAccess: false included), summed per period and resource type',
      ),
  })
  .transform(withRange(30, 'day'))
  .refine(ordered, { message: '`from` must not be after `to`', path: ['from'] })
  .refine(spanAtMost(366), { message: 'at most 366 days at a time', path: ['to'] });

export const metricsQuerySchema = z
  .strictObject({ from: isoTimestamp.optional(), to: isoTimestamp.optional() })
  .transform(withRange(1, 'time'))
  .refine(ordered, { message: '`from` must not be after `to`', path: ['from'] })
  .refine(spanAtMost(31), { message: 'at most 31 days at a time', path: ['to'] });

export const exportQuerySchema = z.strictObject({
  month,
  tenantId: tenantIdSchema
    .optional()
    .describe("One tenant's lines; with rollup=root, a root tenant's line per resource type"),
  format: z.enum(['csv', 'json']).default('csv'),
  rollup: z
    .enum(['tenant', 'root'])
    .default('tenant')
    .describe(
      "tenant: a line per tenant and resource type; root: a line per root tenant and resource type with its subtree's total (the sum of its tenants' lines)",
    ),
});

export const archiveParams = z.strictObject({ month });
export const archiveQuerySchema = z.strictObject({ format: z.enum(['csv', 'json']).default('csv') });

const auditRecordSchema = z.object({
  eventId: z.string(),
  tenantId: z.string().nullable(),
  userId: z.string(),
  action: z.string(),
  resource: z.string(),
  outcome: z.enum(['success', 'denied', 'failed']),
  statusCode: z.number(),
  requestId: z.string(),
  at: z.string(),
  details: z.record(z.string(), z.unknown()),
});

const usageLineSchema = z.object({
  period: z.string(),
  resourceType: z.string(),
  quantity: z.number(),
  unit: z.string(),
});

const exportLineSchema = z.object({
  tenantId: z.string(),
  tenantName: z.string(),
  month: z.string(),
  resourceType: z.string(),
  quantity: z.number(),
  unit: z.string(),
  /** The tenant's plan: now for an open month, at its close for a closed one. */
  plan: z.string(),
  parentId: z
    .string()
    .nullable()
    .describe("The tenant's parent; null for a root (and in files archived before hierarchies)"),
  rootId: z
    .string()
    .nullable()
    .describe(
      "The root of the tenant's hierarchy (itself for a root); null in files archived before hierarchies",
    ),
});

/** The CSV an export answers unless `format=json` (the format is the query's; Accept is not read). */
const exportCsv = {
  mediaType: 'text/csv',
  description: `The file itself (UTF-8, RFC 4180), with the header row ${EXPORT_HEADER.join(',')}`,
} as const;

export const monthCloseSchema = z.object({
  month: z.string(),
  status: z.literal('closed'),
  closedAt: z.string(),
  /** Lines of the archived file, adjustment lines of earlier months included. */
  lines: z.number(),
  bytes: z.number(),
});

/**
 * Routes of the audit, usage, metrics and finance export capability, merged into the route table.
 * Kept in their own module so that the capability can grow without touching the core table.
 */
export const recordRoutes = {
  listAuditRecords: defineRoute({
    operationId: 'listAuditRecords',
    method: 'GET',
    path: '/tenants/{tenantId}/audit',
    summary: 'Audit records of the tenant, newest first (default: the last 30 days)',
    tags: ['records'],
    access: { kind: 'tenant', permission: 'audit:read' },
    handler: 'audit/list-audit',
    needs: ['controlDb', 'auditRecords', 'telemetry'],
    request: { params: tenantParams, query: auditQuerySchema },
    responses: {
      200: {
        description: 'A page of audit records',
        schema: z.object({ items: z.array(auditRecordSchema), nextCursor: z.string().nullable() }),
      },
      ...inTenant,
    },
  }),
  getUsage: defineRoute({
    operationId: 'getUsage',
    method: 'GET',
    path: '/tenants/{tenantId}/usage',
    summary:
      'Usage per day or month and resource type (default: the last 30 days, UTC); include=descendants sums the tenant and its whole subtree',
    tags: ['records'],
    access: { kind: 'tenant', permission: 'usage:read' },
    handler: 'usage/get-usage',
    needs: ['controlDb', 'usageRecords', 'telemetry'],
    exemptFromMonthlyQuota: true,
    request: { params: tenantParams, query: usageQuerySchema },
    responses: {
      200: {
        description: 'Usage',
        schema: z.object({
          tenantId: z.string(),
          granularity: z.enum(['day', 'month']),
          from: z.string(),
          to: z.string(),
          include: z.literal('descendants').optional(),
          tenants: z
            .array(z.string())
            .optional()
            .describe(
              'With include=descendants: the tenants summed, the one asked for first, then its descendants by depth',
            ),
          items: z.array(usageLineSchema),
        }),
      },
      ...inTenant,
    },
  }),
  getMetrics: defineRoute({
    operationId: 'getMetrics',
    method: 'GET',
    path: '/tenants/{tenantId}/metrics',
    summary: 'Per hour: requests, errors, error rate, p50/p95/p99 latency (default: the last 24 hours)',
    tags: ['records'],
    access: { kind: 'tenant', permission: 'usage:read' },
    handler: 'metrics/get-metrics',
    needs: ['controlDb', 'usageRecords', 'telemetry'],
    request: { params: tenantParams, query: metricsQuerySchema },
    responses: {
      200: {
        description: 'Hourly metrics',
        schema: z.object({
          tenantId: z.string(),
          from: z.string(),
          to: z.string(),
          items: z.array(
            z.object({
              hour: z.string(),
              requests: z.number(),
              errors: z.number(),
              clientErrors: z.number(),
              errorRate: z.number(),
              p50: z.number().nullable(),
              p95: z.number().nullable(),
              p99: z.number().nullable(),
              meanMs: z.number().nullable(),
            }),
          ),
        }),
      },
      ...inTenant,
    },
  }),
  exportUsage: defineRoute({
    operationId: 'exportUsage',
    method: 'GET',
    path: '/usage/exports',
    summary:
      "Usage of a calendar month (UTC) per tenant and resource type, CSV by default, each line with the tenant's parent_id and root_id. A closed month answers its archived export (with its adjustment lines); an open month is computed now. rollup=root: one line per root tenant and resource type with its subtree's total.",
    tags: ['finance'],
    access: { kind: 'platform', groups: ['finance', 'platform-admin'] },
    handler: 'exports/get-export',
    needs: ['controlDb', 'usageRecords', 'exportArchive', 'telemetry'],
    request: { query: exportQuerySchema },
    responses: {
      200: {
        description: 'The export: text/csv by default (format=csv), application/json with format=json',
        text: exportCsv,
        schema: z.object({
          month: z.string(),
          status: z.enum(['open', 'closed']),
          lines: z.array(exportLineSchema),
        }),
      },
      ...forFinance,
      404: error('Unknown tenant'),
    },
  }),
  listUsageExports: defineRoute({
    operationId: 'listUsageExports',
    method: 'GET',
    path: '/usage/exports/archive',
    summary: 'Closed months with an archived export, newest first',
    tags: ['finance'],
    access: { kind: 'platform', groups: ['finance', 'platform-admin'] },
    handler: 'exports/list-archive',
    needs: ['exportArchive', 'telemetry'],
    request: {},
    responses: {
      200: {
        description: 'Archived exports',
        schema: z.object({
          items: z.array(z.object({ month: z.string(), bytes: z.number(), closedAt: z.string() })),
        }),
      },
      ...forFinance,
    },
  }),
  getUsageExport: defineRoute({
    operationId: 'getUsageExport',
    method: 'GET',
    path: '/usage/exports/archive/{month}',
    summary: "Download a closed month's archived export, as it was written",
    tags: ['finance'],
    access: { kind: 'platform', groups: ['finance', 'platform-admin'] },
    handler: 'exports/get-archived-export',
    needs: ['exportArchive', 'telemetry'],
    request: { params: archiveParams, query: archiveQuerySchema },
    responses: {
      200: {
        description:
          'The archived export: text/csv by default (format=csv), application/json with format=json',
        text: exportCsv,
        schema: z.object({ month: z.string(), closedAt: z.string(), lines: z.array(exportLineSchema) }),
      },
      ...forFinance,
      404: error('No archived export for this month'),
    },
  }),
  // Closing a month on demand: the scheduled close, run now (so archives need not wait for the 1st).
  closeUsageMonth: defineRoute({
    operationId: 'closeUsageMonth',
    method: 'POST',
    path: '/usage/exports/{month}/close',
    summary:
      'Close a finished month now, exactly as the scheduled close does (reconcile, archive). Idempotent: a closed month answers its archive unchanged.',
    tags: ['finance'],
    access: { kind: 'platform', groups: ['finance', 'platform-admin'] },
    handler: 'exports/post-month-close',
    needs: ['controlDb', 'usageRecordsWrite', 'exportArchiveWrite', 'telemetry'],
    idempotent: true,
    request: { params: archiveParams },
    responses: {
      200: { description: "The archived export's summary", schema: monthCloseSchema },
      ...forFinance,
      409: error('The month has not ended yet (UTC)'),
    },
  }),
} as const satisfies Record<string, RouteSpec>;
