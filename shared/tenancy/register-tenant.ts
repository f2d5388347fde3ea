import { newTenantId } from '#shared/control/ids';
import type { TenantDirectory, TenantRecord } from '#shared/control/tenant-directory';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { DEFAULT_SETTINGS, type TenantSettings } from '#shared/tenancy/settings';

export interface RegisterDeps {
  readonly directory: TenantDirectory;
  readonly workflows: WorkflowStarter;
}

/** The provisioning execution of a tenant is named after it: starting it twice starts it once. */
export const provisioningExecutionName = (tenantId: string) => `provision-${tenantId}`;

/**
 * Registers a tenant: the tenant (status `provisioning`) and its owner's membership in one
 * transaction, then the provisioning workflow. If the workflow cannot be started the tenant is
 * marked `failed` rather than left provisioning forever.
 */
export async function registerTenant(
  deps: RegisterDeps,
  owner: { userId: string; email: string },
  input: TenantSettings & { name: string },
): Promise<TenantRecord> {
  const { name, ...settings } = input;
  const tenantId = newTenantId();
  const tenant = await deps.directory.createTenant({
    tenantId,
    name,
    settings: { ...DEFAULT_SETTINGS, ...settings },
    owner,
    status: 'provisioning',
  });
  try {
    await deps.workflows.start(provisioningExecutionName(tenantId), { tenantId });
  } catch (error) {
    await deps.directory.transition(
      tenantId,
      ['provisioning'],
      'failed',
      'The provisioning workflow could not start',
    );
    throw error;
  }
  return tenant;
}
