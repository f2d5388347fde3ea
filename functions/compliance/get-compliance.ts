import { COMPLIANCE_HTML_CSP, complianceHtml, HTML_CONTENT_TYPE } from '#shared/compliance/html';
import { complianceReport } from '#shared/compliance/report';
import { complianceDeps } from '#shared/composition/compliance-deps';
import { httpHandler } from '#shared/http/handler';
import { withTextBodies } from '#shared/http/text-response';
import { complianceRoutes } from '#shared/routes/compliance-routes';

export const handler = withTextBodies(
  httpHandler(complianceRoutes.getComplianceReport, async ({ params, query }, services) => {
    const report = await complianceReport(complianceDeps(services), params.tenantId);
    // A report is a snapshot of who may do what: never kept by a shared cache.
    const headers = { 'cache-control': 'no-store' };
    if (query.format === 'json') return { status: 200, body: report, headers };
    return {
      status: 200,
      body: complianceHtml(report),
      headers: {
        ...headers,
        'content-type': HTML_CONTENT_TYPE,
        'content-security-policy': COMPLIANCE_HTML_CSP,
        'x-content-type-options': 'nosniff',
      },
    };
  }),
);
