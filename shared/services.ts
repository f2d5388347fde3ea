import { ControlTenantAccess } from '#shared/control/access-policy';
import { TenantDirectory } from '#shared/control/tenant-directory';
import type { ActiveTenantSource } from '#shared/ports/active-tenant';
import type { IdentityAdmin } from '#shared/ports/identity-admin';
import type { SqlRunner } from '#shared/ports/sql';
import type { WorkflowStarter } from '#shared/ports/workflows';

/**
 * The adapters behind the ports, chosen by the composition root: the AWS adapters in Lambda
 * (built lazily, from the function's configuration, the first time a handler needs one), the
 * embedded engines' adapters on the local platform, which installs its own before any handler
 * runs. Handlers reach them through `services()` at request time, never at import time.
 */
export interface Services {
  readonly control: SqlRunner;
  readonly directory: TenantDirectory;
  readonly tenantAccess: ControlTenantAccess;
  readonly activeTenants: ActiveTenantSource;
  readonly identity: IdentityAdmin;
  readonly workflows: WorkflowStarter;
}

export interface Adapters {
  readonly control: () => SqlRunner;
  readonly identity: () => IdentityAdmin;
  readonly workflows: () => WorkflowStarter;
}

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

/** Services on top of adapters; each adapter is made on first use. */
export function servicesFrom(adapters: Adapters): Services {
  const control = once(adapters.control);
  const directory = once(() => new TenantDirectory(control()));
  const tenantAccess = once(() => new ControlTenantAccess(directory()));
  const identity = once(adapters.identity);
  const workflows = once(adapters.workflows);
  return {
    get control() {
      return control();
    },
    get directory() {
      return directory();
    },
    get tenantAccess() {
      return tenantAccess();
    },
    get activeTenants() {
      return directory();
    },
    get identity() {
      return identity();
    },
    get workflows() {
      return workflows();
    },
  };
}
