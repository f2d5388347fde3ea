import type { ActiveTenantSource } from '#shared/ports/active-tenant';
import type { TenantAccessPolicy } from '#shared/ports/tenant-access';

/**
 * The adapters behind the ports, chosen by the composition root: the AWS adapters in Lambda, the
 * embedded engines' adapters on the local platform (which installs its own before loading any
 * handler). Handlers reach them through `services()` at request time, never at import time.
 */
export interface Services {
  readonly tenantAccess?: TenantAccessPolicy;
  readonly activeTenants?: ActiveTenantSource;
}

let installed: Services | undefined;

export function installServices(services: Services): void {
  installed = services;
}

export function services(): Services {
  return installed ?? {};
}
