import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BackupRepository } from '#shared/control/backup-repository';
import { CustomRoleRepository } from '#shared/control/custom-role-repository';
import { DatabaseRegistry } from '#shared/control/database-registry';
import { newDatabaseId, newRoleId, newTenantId } from '#shared/control/ids';
import { TenantRepository } from '#shared/control/tenant-repository';
import { DEFAULT_PLANS, type Limits, type PlanSettings } from '#shared/domain/plans';
import { Conflict, QuotaExceeded } from '#shared/errors';
import { WorkflowNameTaken, type WorkflowStarter } from '#shared/ports/workflows';
import { roleNameFor } from '#shared/provisioning/names';
import { type CloneDeps, cloneExecutionName, cloneTenant } from '#shared/tenancy/clone';
import { DEFAULT_SETTINGS } from '#shared/tenancy/settings';
import { createControlDatabase, type TempDatabase } from '../support/tenancy.ts';

/**
 * The control-plane half of a clone (shared/tenancy/clone.ts), on a control database of its own:
 * what one transaction records, what it refuses before writing anything (its plan's limits, a
 * source that is busy or not active), its idempotency, and a workflow that cannot start.
 */

const info = inject('platform');
let db: TempDatabase;

/** Starts recorded; a name started twice with the same input is the same execution, as in Step Functions. */
class RecordingWorkflows implements WorkflowStarter {
  readonly started = new Map<string, Record<string, unknown>>();
  failNext = false;

  async start(name: string, input: Record<string, unknown>) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('states: throttled');
    }
    const earlier = this.started.get(name);
    if (earlier && JSON.stringify(earlier) !== JSON.stringify(input)) throw new WorkflowNameTaken(name);
    this.started.set(name, input);
    return { executionId: `arn:local:${name}` };
  }

  async describe() {
    return null;
  }
}

const FREE = DEFAULT_PLANS.free as Limits;
const SMALL: PlanSettings = {
  plans: {
    small: { ...FREE, databases: 2, customRoles: 1 },
    tiny: { ...FREE, databases: 1, customRoles: 0 },
  },
  defaultPlan: 'small',
};

let workflows: RecordingWorkflows;
const depsWith = (plans: PlanSettings = SMALL): CloneDeps => ({
  control: db.runner,
  tenants: new TenantRepository(db.runner),
  databases: new DatabaseRegistry(db.runner),
  workflows,
  settings: { plans },
});

const owner = () => {
  const userId = randomUUID();
  return { userId, email: `clone-${userId.slice(0, 8)}@example.com` };
};
const count = async (table: string) =>
  Number((await db.runner.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0]?.n);

/** An active tenant with `databases` active databases and one custom role. */
async function activeSource(databases = 2) {
  const tenantId = newTenantId();
  await new TenantRepository(db.runner).create({
    tenantId,
    name: 'Source',
    settings: { ...DEFAULT_SETTINGS, defaultCurrency: 'EUR' },
    owner: owner(),
    status: 'active',
  });
  const registry = new DatabaseRegistry(db.runner);
  const ids: string[] = [];
  for (let i = 0; i < databases; i++) {
    const id = newDatabaseId();
    await registry.create({
      id,
      tenantId,
      label: i === 0 ? 'main' : `db${i}`,
      isPrimary: i === 0,
      isolation: 'silo',
      roleName: roleNameFor(tenantId),
    });
    await registry.transition(id, ['provisioning'], 'active');
    ids.push(id);
  }
  await new CustomRoleRepository(db.runner).save(tenantId, newRoleId(), 'auditor', ['audit:read'], 'create');
  return { tenantId, databaseIds: ids };
}

beforeAll(async () => {
  db = await createControlDatabase(info, 'clone');
});
afterAll(async () => {
  await db.drop();
});

describe('cloneTenant (control plane)', () => {
  it('records the clone, its databases, roles and settings and the source backup in one go, then starts clone-<id>', async () => {
    workflows = new RecordingWorkflows();
    const source = await activeSource(2);
    const by = owner();
    const clone = await cloneTenant(depsWith(), by, source.tenantId, {
      name: 'Copy',
      include: ['settings', 'roles', 'data'],
    });
    expect(clone).toMatchObject({ name: 'Copy', status: 'provisioning', plan: 'small', parentId: null });
    expect(clone.settings).toMatchObject({ defaultCurrency: 'EUR' });

    const made = await new DatabaseRegistry(db.runner).ofTenant(clone.id);
    expect(made.map((d) => [d.label, d.isPrimary, d.status]).sort()).toEqual([
      ['db1', false, 'restoring'],
      ['main', true, 'restoring'],
    ]);
    // Each copy names the source database it is restored from (the same label).
    const lineage = await db.runner.query<{ label: string; from: string }>(
      `select c.label, s.label as "from" from tenant_databases c
         join tenant_databases s on s.id = c.restored_from_database
        where c.tenant_id = :id order by c.label`,
      { id: clone.id },
    );
    expect(lineage).toEqual([
      { label: 'db1', from: 'db1' },
      { label: 'main', from: 'main' },
    ]);

    const roles = await new CustomRoleRepository(db.runner).list(clone.id, 10, undefined);
    expect(roles.items.map((r) => [r.name, r.permissions])).toEqual([['auditor', ['audit:read']]]);

    const backup = await new BackupRepository(db.runner).ofClone(clone.id);
    expect(backup).toMatchObject({ sourceTenantId: source.tenantId, include: ['data', 'roles', 'settings'] });
    const record = await new BackupRepository(db.runner).get(backup?.backupId as string);
    expect(record).toMatchObject({ tenantId: source.tenantId, trigger: 'clone', status: 'running' });

    expect(workflows.started.get(cloneExecutionName(clone.id))).toEqual({
      operation: 'clone',
      tenantId: clone.id,
      sourceTenantId: source.tenantId,
      backupId: backup?.backupId,
    });
  });

  it('without settings or roles: the defaults and no role', async () => {
    workflows = new RecordingWorkflows();
    const source = await activeSource(1);
    const clone = await cloneTenant(depsWith(), owner(), source.tenantId, { name: 'Bare', include: [] });
    expect(clone.settings).toEqual(DEFAULT_SETTINGS);
    expect((await new CustomRoleRepository(db.runner).list(clone.id, 10, undefined)).items).toEqual([]);
  });

  it('refuses a clone its plan cannot hold (databases, then custom roles) and writes nothing', async () => {
    workflows = new RecordingWorkflows();
    const source = await activeSource(2);
    const before = await Promise.all(['tenants', 'tenant_databases', 'backups', 'custom_roles'].map(count));
    const tiny: PlanSettings = { ...SMALL, defaultPlan: 'tiny' };
    await expect(
      cloneTenant(depsWith(tiny), owner(), source.tenantId, { name: 'X', include: [] }),
    ).rejects.toThrow(QuotaExceeded);
    const oneDb = await activeSource(1);
    const refused = cloneTenant(depsWith(tiny), owner(), oneDb.tenantId, { name: 'X', include: ['roles'] });
    await expect(refused).rejects.toMatchObject({ quota: 'customRoles', limit: 0 });
    const [tenants, databases, backups, roles] = await Promise.all(
      ['tenants', 'tenant_databases', 'backups', 'custom_roles'].map(count),
    );
    // Only the second source's own rows were added (1 tenant, 1 database, 1 role), nothing of a clone.
    const [tenantsBefore = 0, databasesBefore = 0, backupsBefore = 0, rolesBefore = 0] = before;
    expect([tenants, databases, backups, roles]).toEqual([
      tenantsBefore + 1,
      databasesBefore + 1,
      backupsBefore,
      rolesBefore + 1,
    ]);
    expect(workflows.started.size).toBe(0);
  });

  it('refuses a source that is not active, or has a database being made', async () => {
    workflows = new RecordingWorkflows();
    const source = await activeSource(1);
    await new TenantRepository(db.runner).transition(source.tenantId, ['active'], 'suspended');
    await expect(
      cloneTenant(depsWith(), owner(), source.tenantId, { name: 'X', include: [] }),
    ).rejects.toThrow(Conflict);
    const busy = await activeSource(1);
    const id = newDatabaseId();
    await new DatabaseRegistry(db.runner).create({
      id,
      tenantId: busy.tenantId,
      label: 'late',
      isPrimary: false,
      isolation: 'silo',
      roleName: roleNameFor(busy.tenantId),
    });
    await expect(
      cloneTenant(depsWith(), owner(), busy.tenantId, { name: 'X', include: [] }),
    ).rejects.toMatchObject({ details: { reason: 'database_not_active', databaseId: id } });
  });

  it('the same Idempotency-Key answers the same clone (and starts its workflow again, a no-op)', async () => {
    workflows = new RecordingWorkflows();
    const source = await activeSource(1);
    const by = owner();
    const key = randomUUID();
    const first = await cloneTenant(depsWith(), by, source.tenantId, { name: 'Once', include: [] }, key);
    const again = await cloneTenant(depsWith(), by, source.tenantId, { name: 'Once', include: [] }, key);
    expect(again.id).toBe(first.id);
    const named = await db.runner.query('select 1 from tenants where name = :name', { name: 'Once' });
    expect(named).toHaveLength(1);
    expect(workflows.started.size).toBe(1);
  });

  it('a workflow that cannot start leaves the clone failed (and its backup), not provisioning', async () => {
    workflows = new RecordingWorkflows();
    workflows.failNext = true;
    const source = await activeSource(1);
    await expect(
      cloneTenant(depsWith(), owner(), source.tenantId, { name: 'Stuck', include: [] }),
    ).rejects.toThrow('throttled');
    const [row] = await db.runner.query<{ id: string; status: string }>(
      "select id, status from tenants where name = 'Stuck'",
    );
    expect(row?.status).toBe('failed');
    const backup = await new BackupRepository(db.runner).ofClone(row?.id as string);
    expect((await new BackupRepository(db.runner).get(backup?.backupId as string))?.status).toBe('failed');
  });
});
