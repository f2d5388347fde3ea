import { httpHandler } from '#shared/http/handler';
import { CSV_CONTENT_TYPE, withTextBodies } from '#shared/http/text-response';
import { auditExportPart, exportRangeOf, nextExportCursor } from '#shared/records/audit-export';
import { complianceExportRoutes } from '#shared/routes/compliance-export-routes';

const CONTENT_TYPES = { csv: CSV_CONTENT_TYPE, ndjson: 'application/x-ndjson; charset=utf-8' } as const;

export const handler = withTextBodies(
  httpHandler(complianceExportRoutes.exportAuditRecords, async ({ params, query }, services) => {
    const range = exportRangeOf(query);
    const part = await auditExportPart(services.records.audit, {
      tenantId: params.tenantId,
      ...range,
      format: query.format,
      maxRecords: query.limit,
    });
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES[query.format],
      'content-disposition': `attachment; filename="tenantry-audit-${params.tenantId}.${query.format}"`,
      'x-tenantry-export-records': String(part.records),
    };
    if (part.nextSk) {
      const cursor = nextExportCursor(range, part.nextSk);
      const next = new URLSearchParams({ format: query.format, limit: String(query.limit), cursor });
      headers['x-tenantry-next-cursor'] = cursor;
      headers.link = `</tenants/${params.tenantId}/audit/export?${next}>; rel="next"`;
    }
    return { status: 200, body: part.text, headers };
  }),
);
