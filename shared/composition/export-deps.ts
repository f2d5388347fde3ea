import { recordServices } from '#shared/composition/record-services';
import { services } from '#shared/composition/runtime';
import { type ExportDependencies, tenantCatalog } from '#shared/exports/usage-export';

/** The finance exports' dependencies, for the scheduled close and the on-demand one alike. */
export function exportDeps(): ExportDependencies {
  const records = recordServices();
  return { usage: records.usage, tenants: tenantCatalog(services().tenants), archive: records.archive };
}
