import * as z from 'zod';
import { inTenant } from '#shared/routes/responses';
import { tenantParams } from '#shared/routes/schemas';
import { defineRoute, type RouteSpec } from '#shared/routes/types';

export const complianceQuerySchema = z.strictObject({
  format: z
    .enum(['json', 'html'])
    .default('json')
    .describe('json: the report as data; html: a printable page (no scripts, every value escaped)'),
});

const checkSchema = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(['pass', 'warn', 'fail']),
  evidence: z.string(),
});

export const complianceReportSchema = z.object({
  generatedAt: z.string(),
  tenant: z.object({ id: z.string(), name: z.string(), status: z.string(), plan: z.string() }),
  thresholds: z
    .record(z.string(), z.number())
    .describe('Every threshold the checks apply (docs/compliance.md)'),
  checks: z.array(checkSchema),
  access: z.object({
    members: z.array(
      z.object({
        userId: z.string(),
        email: z.string(),
        role: z.string(),
        inheritedFrom: z.string().optional().describe('The ancestor tenant whose membership gives the role'),
        lastSignInAt: z.string().optional().describe('The latest sign-in recorded; absent when none was'),
        mfa: z
          .boolean()
          .optional()
          .describe('Whether the user has a second factor; absent when the report cannot say'),
      }),
    ),
    membersComplete: z.boolean(),
    privilegedChanges: z.array(
      z.object({
        at: z.string(),
        action: z.string(),
        userId: z.string().describe('Who made the change'),
        resource: z.string(),
        details: z.record(z.string(), z.unknown()),
      }),
    ),
    privilegedChangesComplete: z.boolean(),
  }),
  data: z.object({
    databases: z.array(
      z.object({
        databaseId: z.string(),
        cluster: z.string().nullable(),
        region: z.string().nullable(),
        encrypted: z.boolean(),
      }),
    ),
    backups: z.object({ latestCompletedAt: z.string().optional(), retentionDays: z.number().optional() }),
  }),
  audit: z.object({
    retentionDays: z.number(),
    records: z.number().describe("The tenant's audit records in `window`"),
    window: z.object({ from: z.string(), to: z.string() }),
    complete: z.boolean().describe('False when there were more records than the report counted'),
  }),
});

/** The tenant's compliance report (issue 19; docs/compliance.md). */
export const complianceRoutes = {
  getComplianceReport: defineRoute({
    operationId: 'getComplianceReport',
    method: 'GET',
    path: '/tenants/{tenantId}/compliance',
    summary:
      "The tenant's compliance report: checks (owner, stale invitations, inactive admins, privileged changes, encryption at rest, backups, audit retention) with their evidence, its members and recent privileged changes, its databases and backups, its audit trail. JSON, or a printable HTML page with format=html.",
    tags: ['compliance'],
    access: { kind: 'tenant', permission: 'compliance:read' },
    handler: 'compliance/get-compliance',
    needs: ['controlDb', 'auditRecords', 'telemetry', 'dataProtection', 'memberMfaStatus'],
    request: { params: tenantParams, query: complianceQuerySchema },
    responses: {
      200: {
        description: 'The report: application/json by default, text/html with format=html',
        schema: complianceReportSchema,
        text: {
          mediaType: 'text/html',
          description: 'A printable page: no scripts, every value escaped, a strict Content-Security-Policy',
        },
      },
      ...inTenant,
    },
  }),
} as const satisfies Record<string, RouteSpec>;
