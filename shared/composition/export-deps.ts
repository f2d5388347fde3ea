import type { Services } from '#shared/composition/services';
import { TenantCensus } from '#shared/control/tenant-census';
import { closeAnalyticsMonth } from '#shared/exports/platform-analytics';
import { type ExportDependencies, tenantCatalog } from '#shared/exports/usage-export';

/** The finance exports' dependencies, for the scheduled close and the on-demand one alike. */
export function exportDeps(s: Services): ExportDependencies {
  const records = s.records;
  return {
    usage: records.usage,
    tenants: tenantCatalog(s.tenants),
    archive: records.archive,
    onClose: (month, lines, now) =>
      closeAnalyticsMonth(
        { analytics: records.analytics, census: new TenantCensus(s.control) },
        month,
        lines,
        now,
      ),
  };
}
