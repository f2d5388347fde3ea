import { createHash } from 'node:crypto';
import { BackupRepository } from '#shared/control/backup-repository';
import type { TenantRecord } from '#shared/control/control-records';
import { CustomRoleRepository } from '#shared/control/custom-role-repository';
import { DatabaseRegistry, type TenantDatabaseRecord } from '#shared/control/database-registry';
import { IDEMPOTENCY_TTL_SECONDS } from '#shared/control/idempotency-records';
import { newBackupId, newDatabaseId, newRoleId, newTenantId } from '#shared/control/ids';
import { TenantHierarchy } from '#shared/control/tenant-hierarchy';
import { TenantRepository } from '#shared/control/tenant-repository';
import { effectiveLimits, isolationOf, type Limits } from '#shared/domain/plans';
import { Conflict, QuotaExceeded } from '#shared/errors';
import type { SqlRunner } from '#shared/ports/sql';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { roleNameFor } from '#shared/provisioning/names';
import { plansOf } from '#shared/tenancy/quotas';
import { DEFAULT_SETTINGS } from '#shared/tenancy/settings';
import { startWorkflow } from '#shared/workflows/attempts';
import type { ProvisioningInput } from '#shared/workflows/provisioning';

/** What a clone copies besides its name: any of these (members are never copied). */
export type ClonePart = 'settings' | 'modules' | 'roles' | 'data';

export interface CloneDeps {
  readonly control: SqlRunner;
  readonly tenants: TenantRepository;
  readonly databases: DatabaseRegistry;
  readonly workflows: WorkflowStarter;
  readonly settings: Parameters<typeof plansOf>[0]['settings'];
}

export interface CloneRequest {
  readonly name: string;
  readonly include: readonly ClonePart[];
  readonly parentId?: string | undefined;
}

/** The clone's workflow is named after the new tenant: `clone-<tenantId>`. */
export const cloneExecutionName = (tenantId: string) => `clone-${tenantId}`;

/**
 * The clone workflow's input. What it copies is in the backup's row (`clone_include`), so that a
 * re-run of the request starts the same input.
 */
export type CloneInput = Extract<ProvisioningInput, { operation: 'clone' }>;

const startClone = (
  workflows: WorkflowStarter,
  clone: { tenantId: string; sourceTenantId: string; backupId: string },
) =>
  startWorkflow(workflows, cloneExecutionName(clone.tenantId), {
    operation: 'clone',
    tenantId: clone.tenantId,
    sourceTenantId: clone.sourceTenantId,
    backupId: clone.backupId,
  } satisfies CloneInput);

/**
 * The databases a clone copies: every one of the source that is active. One being made, restored
 * or dropped would be copied half or not at all, so the clone waits for it (409); a failed one
 * holds nothing and is left out.
 */
function databasesToCopy(databases: readonly TenantDatabaseRecord[]): TenantDatabaseRecord[] {
  const busy = databases.find((db) => db.status !== 'active' && db.status !== 'failed');
  if (busy) {
    throw new Conflict('A database of the tenant is not active: clone it when it is', {
      reason: 'database_not_active',
      databaseId: busy.id,
      databaseStatus: busy.status,
    });
  }
  return databases.filter((db) => db.status === 'active');
}

/** The clone must fit its own plan: as many databases and custom roles as it copies, or nothing is made. */
function assertFits(limits: Limits, databases: number, roles: number): void {
  if (databases > limits.databases) throw new QuotaExceeded('databases', limits.databases, databases);
  if (roles > limits.customRoles) throw new QuotaExceeded('customRoles', limits.customRoles, roles);
}

/**
 * The registration key of a clone request: its own namespace in `tenant_registrations`, so that
 * one Idempotency-Key sent to `POST /tenants` and to a clone names two requests, not one tenant.
 */
const cloneKey = (key: string) => `clone_${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;

/** The tenant a clone request with this key made, if any (the key's registration, 24 h). */
async function clonedWith(deps: CloneDeps, userId: string, key: string): Promise<TenantRecord | null> {
  const [row] = await deps.control.query<{ tenantId: string }>(
    `select tenant_id as "tenantId" from tenant_registrations
      where user_id = :userId and idempotency_key = :key and created_at > now() - make_interval(secs => :ttl)`,
    { userId, key: cloneKey(key), ttl: IDEMPOTENCY_TTL_SECONDS },
  );
  return row ? deps.tenants.get(row.tenantId) : null;
}

/**
 * Clones a tenant: a new tenant (status `provisioning`), owned by the caller, with a database for
 * each active database of the source (same labels, the primary one primary), the source's
 * settings and custom roles when asked, and a fresh backup of the source (trigger `clone`) that
 * the clone workflow takes and restores from — rows when `data` is included, the tables' structure
 * alone otherwise; modules come with their tables when `modules` is included. All of it is
 * recorded in one transaction, then the workflow starts; if it cannot, the tenant and the backup
 * are marked failed rather than left running.
 *
 * The clone starts on the deployment's default plan (a plan is a platform admin's to give: a clone
 * of a premium tenant is not premium), or, as a child (`parentId`; the caller checked
 * `tenants:createChild` there), on its parent's plan; it must fit that plan (403 `quota_exceeded`).
 */
export async function cloneTenant(
  deps: CloneDeps,
  owner: { userId: string; email: string },
  sourceTenantId: string,
  request: CloneRequest,
  idempotencyKey?: string,
): Promise<TenantRecord> {
  if (idempotencyKey) {
    const earlier = await clonedWith(deps, owner.userId, idempotencyKey);
    if (earlier) {
      // The attempt that made it may have stopped before starting its workflow: start it (a no-op
      // while it runs, the execution being named after the clone).
      const made =
        earlier.status === 'provisioning'
          ? await new BackupRepository(deps.control).ofClone(earlier.id)
          : null;
      if (made) await startClone(deps.workflows, { tenantId: earlier.id, ...made });
      return earlier;
    }
  }
  const source = await deps.tenants.get(sourceTenantId);
  if (source?.status !== 'active') throw new Conflict('The tenant is not active');
  const include = new Set(request.include);
  const databases = databasesToCopy(await deps.databases.ofTenant(sourceTenantId));
  const roles = include.has('roles')
    ? await new CustomRoleRepository(deps.control).allOf(sourceTenantId)
    : [];
  const tenantId = newTenantId();
  const backupId = newBackupId();
  const tenant = await deps.control.transaction(async (tx) => {
    const place = request.parentId ? await new TenantHierarchy(tx).placeUnder(request.parentId) : null;
    const plans = plansOf(deps);
    const plan = place?.plan ?? plans.defaultPlan;
    assertFits(effectiveLimits(plans, plan), databases.length, roles.length);
    const created = await new TenantRepository(tx).create({
      tenantId,
      name: request.name,
      settings: include.has('settings') ? { ...DEFAULT_SETTINGS, ...source.settings } : DEFAULT_SETTINGS,
      owner,
      status: 'provisioning',
      plan,
      isolation: isolationOf(plans, plan),
      ...(request.parentId && place ? { parent: { id: request.parentId, path: place.path } } : {}),
    });
    // The backup is the source's: it lists among its backups, and goes with its retention.
    await new BackupRepository(tx).create({
      id: backupId,
      tenantId: sourceTenantId,
      trigger: 'clone',
      databaseIds: databases.map((db) => db.id),
      requestedBy: owner.userId,
      clone: { tenantId, include: [...include].sort() },
    });
    const registry = new DatabaseRegistry(tx);
    for (const db of databases) {
      const databaseId = newDatabaseId();
      await registry.create({
        id: databaseId,
        tenantId,
        label: db.label,
        isPrimary: db.isPrimary,
        isolation: created.isolation,
        roleName: roleNameFor(tenantId),
        // `restoring` from the start: made by the saga, then loaded from the clone's backup.
        restoredFrom: { backupId, databaseId: db.id },
      });
    }
    const customRoles = new CustomRoleRepository(tx);
    for (const role of roles) {
      await customRoles.save(tenantId, newRoleId(), role.name, [...role.permissions], 'create');
    }
    if (idempotencyKey) {
      await tx.execute(
        'insert into tenant_registrations (user_id, idempotency_key, tenant_id) values (:userId, :key, :tenantId)',
        { userId: owner.userId, key: cloneKey(idempotencyKey), tenantId },
      );
    }
    return created;
  });
  try {
    await startClone(deps.workflows, { tenantId, sourceTenantId, backupId });
  } catch (error) {
    const why = 'The clone workflow could not start';
    await deps.tenants.transition(tenantId, ['provisioning'], 'failed', why);
    await new BackupRepository(deps.control).fail(backupId, why);
    throw error;
  }
  return tenant;
}
