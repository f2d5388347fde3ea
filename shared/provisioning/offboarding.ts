import { TenantOffboarded } from '#shared/events/events';
import { outgoing } from '#shared/ports/event-publisher';
import {
  databaseTarget,
  deleteStoredObjects,
  type OffboardingDeps,
  recordRoleAndSecret,
  verifyOffboarding,
} from '#shared/provisioning/offboarding-certificate';
import {
  announce,
  dropDatabaseObjects,
  dropRoleAndSecret,
  InvalidProvisioningRequest,
  now,
  type SagaDeps,
  TenantHasChildren,
} from '#shared/provisioning/saga';

/** Offboarding (shared/workflows/provisioning.ts, operation `offboard`): a subtree, leaves first. */

/** One level of a subtree's offboarding: its tenants at the same depth, offboarded side by side. */
export interface OffboardingLevel {
  readonly depth: number;
  readonly tenants: readonly { readonly tenantId: string }[];
}

/**
 * Offboarding, step 1: the tenants to offboard — the tenant and every descendant not offboarded
 * yet — in levels, deepest first, so that every tenant comes after its children. Every one must be
 * `deleting` (the route marked them all, under the hierarchy's lock): anything else is refused
 * here, before anything is dropped. A re-run plans only what is left.
 */
export async function planTenantOffboarding(deps: SagaDeps, tenantId: string) {
  const subtree = (await deps.hierarchy.subtree(tenantId)).filter((t) => t.status !== 'deleted');
  const stray = subtree.find((t) => t.status !== 'deleting');
  if (stray) throw new InvalidProvisioningRequest(`Tenant ${stray.id} is ${stray.status}, not being deleted`);
  // subtree() is deepest first: consecutive tenants of one depth make one level.
  const levels: { depth: number; tenants: { tenantId: string }[] }[] = [];
  for (const { id, depth } of subtree) {
    const last = levels.at(-1);
    if (last?.depth === depth) last.tenants.push({ tenantId: id });
    else levels.push({ depth, tenants: [{ tenantId: id }] });
  }
  return { levels: levels as readonly OffboardingLevel[], tenants: subtree.length };
}

/**
 * Offboarding of one tenant: every database, the role, the secret, every backup and every other
 * object of the tenant in the backup store, the memberships and custom roles go; the tenant record
 * stays as `deleted` (its audit trail lives on). Each deletion is recorded in the tenant's
 * offboarding certificate, with its owners at the start, and verified before the tenant becomes
 * `deleted` (shared/provisioning/offboarding-certificate.ts). Refused while a child is not
 * offboarded. Safe to run again: the certificate keeps one entry per resource, its first times.
 */
export async function offboardTenant(deps: OffboardingDeps, tenantId: string) {
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new InvalidProvisioningRequest(`Unknown tenant ${tenantId}`);
  if (tenant.status === 'deleted') return { offboarded: false };
  if (tenant.status !== 'deleting')
    throw new InvalidProvisioningRequest(`Tenant ${tenantId} is not being deleted`);
  const children = await deps.hierarchy.openChildren(tenantId);
  if (children.length > 0) {
    throw new TenantHasChildren(`Tenant ${tenantId} still has children: ${children.join(', ')}`);
  }
  await deps.certificates.begin(tenantId);
  const databases = await deps.databases.ofTenant(tenantId);
  for (const record of databases) {
    await dropDatabaseObjects(deps, record);
    await deps.certificates.deleted(tenantId, {
      type: 'database',
      id: record.id,
      target: databaseTarget(record),
    });
    await deps.databases.transition(
      record.id,
      ['provisioning', 'restoring', 'active', 'deleting', 'failed'],
      'deleted',
    );
  }
  await dropRoleAndSecret(deps, tenantId, deps.clusters.ids());
  await recordRoleAndSecret(deps, tenantId);
  await deleteStoredObjects(deps, tenantId);
  await deps.memberships.removeAll(tenantId);
  await verifyOffboarding(deps, tenantId);
  await deps.certificates.complete(tenantId);
  await deps.tenants.transition(tenantId, ['deleting'], 'deleted', 'Offboarded');
  await announce(deps, outgoing(TenantOffboarded, { tenantId, at: now() }));
  deps.tenantChanged?.(tenantId);
  return { offboarded: true, databases: databases.length };
}
