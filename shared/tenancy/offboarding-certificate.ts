import type { OffboardingCertificates } from '#shared/control/offboarding-certificates';
import type { TenantRepository } from '#shared/control/tenant-repository';
import type { Caller } from '#shared/domain/caller';
import { NotFound } from '#shared/errors';

/** How long the owners at offboarding may read the certificate; platform admins always may. */
export const FORMER_OWNER_ACCESS_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * `GET /tenants/{tenantId}/offboarding-certificate` (docs/tenant-lifecycle.md): a platform admin
 * reads any offboarded tenant's; a caller who was its owner when offboarding began reads it for
 * FORMER_OWNER_ACCESS_DAYS after `offboardedAt`. Everyone else, and every tenant not offboarded
 * (unknown, active, still being offboarded), gets the same 404: the answer tells no one whether
 * the tenant exists.
 */
export async function readOffboardingCertificate(
  deps: {
    readonly certificates: Pick<OffboardingCertificates, 'get'>;
    readonly tenants: Pick<TenantRepository, 'get'>;
  },
  caller: Caller,
  tenantId: string,
  now: Date = new Date(),
) {
  const notFound = () => new NotFound('Tenant not found');
  const certificate = await deps.certificates.get(tenantId);
  if (!certificate?.offboardedAt) throw notFound();
  const tenant = await deps.tenants.get(tenantId);
  if (tenant?.status !== 'deleted') throw notFound();
  const isPlatformAdmin = caller.groups.includes('platform-admin');
  const withinWindow =
    now.getTime() - Date.parse(certificate.offboardedAt) <= FORMER_OWNER_ACCESS_DAYS * DAY_MS;
  if (!isPlatformAdmin && !(withinWindow && certificate.formerOwners.includes(caller.userId)))
    throw notFound();
  return {
    tenantId,
    offboardedAt: certificate.offboardedAt,
    resources: certificate.resources.map((resource) => ({
      type: resource.type,
      id: resource.id,
      deletedAt: resource.deletedAt,
      // Complete certificates have every resource verified: offboarding ends only once they are.
      verifiedAt: resource.verifiedAt ?? '',
      verification: resource.verification ?? { method: 'none', evidence: 'not verified' },
    })),
  };
}
