import * as z from 'zod';
import { currentMonth, MONTH_PATTERN } from '#shared/exports/months';
import { ANALYTICS_CSV_HEADER, TOP_TENANTS } from '#shared/exports/platform-analytics';
import { errorBodySchema } from '#shared/routes/schemas';
import { defineRoute, type RouteSpec } from '#shared/routes/types';

const error = (description: string) => ({ description, schema: errorBodySchema });

/** The most months one request covers: two years of month partitions, 24 Queries. */
export const ANALYTICS_MAX_MONTHS = 24;

const month = z.string().regex(MONTH_PATTERN, 'a month as YYYY-MM');
const monthIndex = (value: string) => Number(value.slice(0, 4)) * 12 + Number(value.slice(5, 7)) - 1;

export const analyticsQuerySchema = z
  .strictObject({
    from: month.describe('The first month (UTC), YYYY-MM'),
    to: month.describe(
      `The last month (UTC), YYYY-MM: not after the current month, at most ${ANALYTICS_MAX_MONTHS} months from \`from\``,
    ),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .refine((value) => value.from <= value.to, { message: '`from` must not be after `to`', path: ['from'] })
  .refine((value) => monthIndex(value.to) - monthIndex(value.from) < ANALYTICS_MAX_MONTHS, {
    message: `at most ${ANALYTICS_MAX_MONTHS} months at a time`,
    path: ['to'],
  })
  // Checked on each request (a schema made once would freeze the month it was made in).
  .refine((value) => value.to <= currentMonth(), {
    message: 'the month has not started yet: a past or the current month',
    path: ['to'],
  });

const counts = z.record(z.string(), z.number());
const ranked = z
  .array(z.object({ tenantId: z.string(), value: z.number() }))
  .describe(`At most ${TOP_TENANTS} tenants, highest first (ties by tenant id); tenants with 0 are left out`);

const analyticsMonthSchema = z.object({
  month: z.string(),
  tenants: z.object({ byStatus: counts, byPlan: counts, byIsolation: counts }),
  tenantsSource: z
    .enum(['snapshot', 'live'])
    .describe(
      "snapshot: the tenants as the month's close counted them; live: the tenants created by the month's end, with their status, plan and isolation now (the open month, and months closed before analytics)",
    ),
  created: z.number().describe('Tenants registered in the month'),
  offboarded: z.number().describe('Tenants whose offboarding finished in the month'),
  activeUsers: z.number().describe('Distinct signed-in users who made at least one API request in the month'),
  apiCalls: z.number().describe("The tenants' billable api_calls (the sum of their usage rollups)"),
  requests: z.number().describe('Requests authorised for a tenant (platform routes are not counted)'),
  errors: z.number().describe('Of those, 5xx answers'),
  latencyP50Ms: z.number().nullable(),
  latencyP95Ms: z.number().nullable(),
  top: z.object({
    apiCalls: ranked,
    storageBytes: ranked.describe("The month's peak storage_bytes"),
    errorRate: ranked.describe('errors / requests, to 4 decimals'),
  }),
});

/** The platform analytics (issue 19): the fleet's months, computed from rollups. */
export const analyticsRoutes = {
  getPlatformAnalytics: defineRoute({
    operationId: 'getPlatformAnalytics',
    method: 'GET',
    path: '/platform/analytics',
    summary: `The fleet per calendar month (UTC), from \`from\` to \`to\` (at most ${ANALYTICS_MAX_MONTHS} months, none in the future): tenants by status, plan and isolation, created and offboarded; active users; API calls, errors and p50/p95 latency; the top ${TOP_TENANTS} tenants by API calls, storage and error rate. Computed from the monthly rollups, never the raw records. JSON by default; format=csv answers one line per month and measure.`,
    tags: ['finance'],
    access: { kind: 'platform', groups: ['finance', 'platform-admin'] },
    handler: 'platform/get-analytics',
    needs: ['controlDb', 'usageRecords', 'telemetry'],
    request: { query: analyticsQuerySchema },
    responses: {
      200: {
        description: 'The analytics: application/json by default, text/csv with format=csv',
        text: {
          mediaType: 'text/csv',
          description: `UTF-8, RFC 4180, with the header row ${ANALYTICS_CSV_HEADER.join(',')}: one line per month and measure`,
        },
        schema: z.object({ from: z.string(), to: z.string(), months: z.array(analyticsMonthSchema) }),
      },
      400: error('Invalid query: a malformed month, `from` after `to`, too long a range, a future month'),
      401: error('No valid token'),
      403: error('Finance and platform admins only'),
    },
  }),
} as const satisfies Record<string, RouteSpec>;
