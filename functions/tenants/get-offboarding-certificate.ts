import { OffboardingCertificates } from '#shared/control/offboarding-certificates';
import { httpHandler } from '#shared/http/handler';
import { complianceExportRoutes } from '#shared/routes/compliance-export-routes';
import { readOffboardingCertificate } from '#shared/tenancy/offboarding-certificate';

export const handler = httpHandler(
  complianceExportRoutes.getOffboardingCertificate,
  async ({ params, caller }, services) => ({
    status: 200,
    body: await readOffboardingCertificate(
      { certificates: new OffboardingCertificates(services.control), tenants: services.tenants },
      caller,
      params.tenantId,
    ),
  }),
);
