import * as z from 'zod';
import {
  AUDIT_EXPORT_COLUMNS,
  AUDIT_EXPORT_FORMATS,
  DEFAULT_AUDIT_EXPORT_RECORDS,
  MAX_AUDIT_EXPORT_RECORDS,
} from '#shared/records/audit-export';
import { errorBodySchema, tenantParams } from '#shared/routes/schemas';
import { defineRoute, type RouteSpec } from '#shared/routes/types';

const error = (description: string) => ({ description, schema: errorBodySchema });

/** An ISO 8601 timestamp with its offset that is also a real instant (no 30 February). */
const isoTimestamp = z.iso
  .datetime({ offset: true })
  .refine((text) => !Number.isNaN(Date.parse(text)), 'not a real date and time');

export const auditExportQuerySchema = z
  .strictObject({
    from: isoTimestamp.optional().describe('Inclusive; default: `to` minus 30 days'),
    to: isoTimestamp.optional().describe('Inclusive; default: now'),
    format: z.enum(AUDIT_EXPORT_FORMATS).default('ndjson'),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_AUDIT_EXPORT_RECORDS)
      .default(DEFAULT_AUDIT_EXPORT_RECORDS)
      .describe('At most this many records in this part (a part also ends before 4 MiB)'),
    cursor: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('The next part: the `x-tenantry-next-cursor` of the previous one (it carries the range)'),
  })
  .refine((value) => !value.from || !value.to || Date.parse(value.from) <= Date.parse(value.to), {
    message: '`from` must not be after `to`',
    path: ['from'],
  });

const NEXT_PART = [
  'When more records remain, the response carries `x-tenantry-next-cursor: <cursor>` and',
  '`Link: </tenants/{tenantId}/audit/export?format=…&limit=…&cursor=<cursor>>; rel="next"` (RFC 8288);',
  'the last part has neither. `x-tenantry-export-records` is the number of records in this part.',
].join(' ');

const auditExportText = [
  {
    mediaType: 'application/x-ndjson',
    description: `format=ndjson (the default): one audit record a line, as GET …/audit lists them. ${NEXT_PART}`,
  },
  {
    mediaType: 'text/csv',
    description: `format=csv: RFC 4180, the header row ${AUDIT_EXPORT_COLUMNS.join(',')} on every part, \`details\` as JSON text, cells starting with = + - @ tab or CR prefixed with '. ${NEXT_PART}`,
  },
] as const;

export const offboardingResourceSchema = z.object({
  type: z.enum(['database', 'role', 'secret', 'backup', 'exports']),
  id: z.string(),
  deletedAt: z.string(),
  verifiedAt: z.string(),
  verification: z.object({
    method: z.string().describe('Where absence was checked: pg_database, pg_namespace, pg_roles, …'),
    evidence: z.string().describe('What that check answered'),
  }),
});

export const offboardingCertificateSchema = z.object({
  tenantId: z.string(),
  offboardedAt: z.string(),
  resources: z.array(offboardingResourceSchema),
});

/** The audit export and the offboarding certificate (issue 19, parts 3 and 4). */
export const complianceExportRoutes = {
  exportAuditRecords: defineRoute({
    operationId: 'exportAuditRecords',
    method: 'GET',
    path: '/tenants/{tenantId}/audit/export',
    summary:
      'The tenant\'s audit records of a range (default: the last 30 days), oldest first, as NDJSON (default) or CSV, in parts of at most `limit` records and 4 MiB; each part but the last names the next (`x-tenantry-next-cursor`, `Link: rel="next"`)',
    tags: ['records'],
    access: { kind: 'tenant', permission: 'audit:read' },
    handler: 'audit/export-audit',
    needs: ['controlDb', 'auditRecords', 'telemetry'],
    request: { params: tenantParams, query: auditExportQuerySchema },
    responses: {
      200: { description: 'One part of the export (the file itself)', text: auditExportText },
      400: error('Invalid range, format, limit or cursor'),
      401: error('No valid token'),
      403: error('Not allowed in this tenant'),
      404: error('Unknown tenant, or one the caller is not a member of'),
    },
  }),
  getOffboardingCertificate: defineRoute({
    operationId: 'getOffboardingCertificate',
    method: 'GET',
    path: '/tenants/{tenantId}/offboarding-certificate',
    summary:
      'What offboarding deleted (databases by id, role, secret, backups, stored objects), when, and how its absence was verified. Platform admins; and, for 30 days after, the owners at offboarding. 404 to anyone else, and for a tenant not offboarded',
    tags: ['tenants'],
    // The tenant's memberships are gone once it is offboarded: the handler decides who may read.
    access: { kind: 'signed-in' },
    handler: 'tenants/get-offboarding-certificate',
    needs: ['controlDb', 'telemetry'],
    // No query: an unknown parameter is a 400, as on every route with a query.
    request: { params: tenantParams, query: z.strictObject({}) },
    responses: {
      200: { description: 'The certificate', schema: offboardingCertificateSchema },
      400: error('Malformed tenant id, or a query parameter'),
      401: error('No valid token'),
      404: error('No certificate for this caller: unknown tenant, not offboarded, or not theirs to read'),
    },
  }),
} as const satisfies Record<string, RouteSpec>;
