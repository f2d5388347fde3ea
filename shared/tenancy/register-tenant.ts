import { DatabaseRegistry } from '#shared/control/database-registry';
import { newDatabaseId, newTenantId } from '#shared/control/ids';
import { TenantDirectory, type TenantRecord } from '#shared/control/tenant-directory';
import type { SqlRunner } from '#shared/ports/sql';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { databaseNameFor, roleNameFor } from '#shared/provisioning/names';
import { DEFAULT_SETTINGS, type TenantSettings } from '#shared/tenancy/settings';
import type { ProvisioningInput } from '#shared/workflows/provisioning';

export interface RegisterDeps {
  readonly control: SqlRunner;
  readonly directory: TenantDirectory;
  readonly workflows: WorkflowStarter;
}

/** The first provisioning of a tenant is named after it: starting it twice starts it once. */
export const provisioningExecutionName = (tenantId: string) => `provision-${tenantId}`;

export const PRIMARY_DATABASE_LABEL = 'main';

/**
 * Registers a tenant: the tenant (status `provisioning`), its owner's membership and its primary
 * database record in one transaction, then the provisioning workflow. If the workflow cannot be
 * started the tenant is marked `failed` rather than left provisioning forever.
 */
export async function registerTenant(
  deps: RegisterDeps,
  owner: { userId: string; email: string },
  input: TenantSettings & { name: string },
): Promise<TenantRecord> {
  const { name, ...settings } = input;
  const tenantId = newTenantId();
  const databaseId = newDatabaseId();
  const tenant = await deps.control.transaction(async (tx) => {
    const created = await new TenantDirectory(tx).createTenant({
      tenantId,
      name,
      settings: { ...DEFAULT_SETTINGS, ...settings },
      owner,
      status: 'provisioning',
    });
    await new DatabaseRegistry(tx).create({
      id: databaseId,
      tenantId,
      label: PRIMARY_DATABASE_LABEL,
      isPrimary: true,
      databaseName: databaseNameFor(databaseId),
      roleName: roleNameFor(tenantId),
    });
    return created;
  });
  const workflowInput: ProvisioningInput = { operation: 'provision', tenantId, databaseId };
  try {
    await deps.workflows.start(provisioningExecutionName(tenantId), workflowInput);
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
