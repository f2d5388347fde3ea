import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { backupDatabase } from '#shared/backups/backup-database';
import {
  encodeManifest,
  MANIFEST_FORMAT,
  manifestBytes,
  manifestKey,
  manifestView,
} from '#shared/backups/manifest';
import { partKey } from '#shared/backups/table-parts';
import { BackupRepository } from '#shared/control/backup-repository';
import type { TenantDatabaseRecord } from '#shared/control/database-registry';
import { newBackupId } from '#shared/control/ids';
import { Conflict, NotFound } from '#shared/errors';
import { ModuleRegistry } from '#shared/modules/registry';
import type { SqlRunner } from '#shared/ports/sql';
import { dropDatabase, offboard, provisioningStatus } from '#shared/tenancy/lifecycle';
import { provisioningExecutionName, registerTenant } from '#shared/tenancy/register-tenant';
import { startRestore } from '#shared/tenancy/restore';
import { type SagaHarness, startSagaHarness } from '../support/saga-harness.ts';

/**
 * A restore as the platform runs it (the saga harness: the same definition, steps and adapters),
 * from a backup taken in this process with backupDatabase into the harness's own backup store and
 * control database (the backup workflow is another branch's). Injected failures at RestoreDatabase
 * and a missing part show that a failed restore leaves the new database `failed`, dropped, and
 * the original untouched.
 */

class InjectedFailure extends Error {
  override readonly name = 'InjectedFailure';
}

describe('restoring a backup into a new database (the provisioning saga with RestoreDatabase)', () => {
  let saga: SagaHarness;
  let tenantId: string;
  let source: TenantDatabaseRecord;
  let backupId: string;

  const asTenant = (record: TenantDatabaseRecord): Promise<SqlRunner> =>
    saga.services.clusters.asTenant({
      clusterId: record.clusterId ?? '',
      database: record.databaseName,
      secretArn: record.secretArn ?? '',
      tenantId: record.tenantId,
    });

  const rowsOf = async (record: TenantDatabaseRecord) =>
    (await asTenant(record)).query<{ row: string }>('select t::text as row from notes t order by id');

  /** A completed backup of `record`, as the backup workflow records one. */
  async function backUp(record: TenantDatabaseRecord, modules: Record<string, unknown>[] = []) {
    const id = newBackupId();
    const backups = new BackupRepository(saga.services.control);
    await backups.create({ id, tenantId, trigger: 'request', databaseIds: null, requestedBy: null });
    const startedAt = new Date().toISOString();
    const database = await backupDatabase(await asTenant(record), {
      store: saga.backupStore,
      tenantId,
      backupId: id,
      databaseId: record.id,
      label: record.label,
    });
    const manifest = {
      format: MANIFEST_FORMAT,
      backupId: id,
      tenantId,
      startedAt,
      completedAt: new Date().toISOString(),
      databases: [database],
      settings: {},
      modules,
      roles: [],
    } as const;
    await saga.backupStore.put(tenantId, manifestKey(id), encodeManifest(manifest));
    await backups.complete(id, {
      manifest: manifestView(manifest),
      bytes: manifestBytes(manifest),
      expiresAt: null,
    });
    return { id, database };
  }

  const databaseExists = async (name: string) => {
    const admin = await saga.admin();
    try {
      return (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
    } finally {
      await admin.end();
    }
  };

  beforeAll(async () => {
    saga = await startSagaHarness(inject('platform'));
    const owner = { userId: randomUUID(), email: `owner-${randomUUID().slice(0, 8)}@example.com` };
    const tenant = await registerTenant(saga.services, owner, { name: 'Restored' });
    await saga.workflows.waitFor(provisioningExecutionName(tenant.id));
    tenantId = tenant.id;
    // Room for the restores below (the free plan has 2 databases; a full quota is tested apart).
    await saga.services.control.execute(`update tenants set plan = 'premium' where id = :tenantId`, {
      tenantId,
    });
    const [primary] = await saga.services.databases.ofTenant(tenantId);
    source = primary as TenantDatabaseRecord;
    const sql = await asTenant(source);
    await sql.execute(`create table notes (
      id uuid primary key default gen_random_uuid(), created_at timestamptz not null default now(),
      body text, amount numeric(12,3))`);
    await sql.execute(`insert into notes (body, amount, created_at)
      select 'note ' || i, i / 7.0, '2026-01-01T00:00:00Z'::timestamptz + i * interval '1 minute'
        from generate_series(1, 300) i`);
    await sql.execute("insert into tenantry_migrations (module, version) values ('billing', 1)");
    await new ModuleRegistry(saga.services.control).record(tenantId, source.id, 'billing', {
      enabled: true,
      version: 1,
    });
    ({ id: backupId } = await backUp(source, [{ moduleId: 'billing', databaseId: source.id, version: 1 }]));
  });
  afterAll(async () => {
    await saga?.close();
  });

  it('restores into a new database: restoring, then active, rows identical, module records copied, original untouched', async () => {
    // Arrange: the original loses rows after the backup.
    const sql = await asTenant(source);
    const before = await rowsOf(source);
    await sql.execute("delete from notes where body like 'note 1%'");

    // Act
    const started = await startRestore(saga.services, tenantId, backupId, source.id);
    const execution = await saga.workflows.waitFor(`provision-${started.databaseId}`);

    // Assert
    expect(started).toMatchObject({ status: 'restoring', backupId, sourceDatabaseId: source.id });
    expect(started.restoredFrom).toEqual({ backupId, databaseId: source.id });
    expect(execution?.status).toBe('SUCCEEDED');
    expect(execution?.steps.map((s) => s.name)).toEqual([
      'Operation',
      'PlaceDatabase',
      'EnsureTenantSecret',
      'CreateRoleAndDatabase',
      'ApplyBaselineSchema',
      'RestoreOrActivate',
      'RestoreDatabase',
      'ActivateDatabase',
    ]);
    const restored = (await saga.services.databases.get(started.databaseId)) as TenantDatabaseRecord;
    expect(restored.status).toBe('active');
    expect(await rowsOf(restored)).toEqual(before);
    expect((await rowsOf(source)).length).toBeLessThan(before.length);
    const migrations = async (record: TenantDatabaseRecord) =>
      (await asTenant(record)).query(
        'select module, version, applied_at::text as at from tenantry_migrations order by 1, 2',
      );
    expect(await migrations(restored)).toEqual(await migrations(source));
    const modules = await new ModuleRegistry(saga.services.control).ofTenant(tenantId);
    expect(modules.filter((m) => m.databaseId === restored.id)).toMatchObject([
      { moduleId: 'billing', version: 1, enabled: true },
    ]);
    const status = await provisioningStatus(saga.services, tenantId);
    expect(status.databases.map((d) => d.id)).toContain(restored.id);
  });

  it.each([
    ['a fault after RestoreDatabase loaded everything', 'after', 'InjectedFailure during restore'],
    ['a fault before RestoreDatabase', 'before', 'InjectedFailure during restore'],
  ] as const)(
    '%s: the new database is failed with the reason and dropped, its module records gone, the original untouched',
    async (_, when, reason) => {
      // Arrange
      saga.faults = [{ step: 'RestoreDatabase', when, error: new InjectedFailure('injected'), times: 1 }];
      const originalRows = await rowsOf(source);

      // Act
      const started = await startRestore(saga.services, tenantId, backupId, source.id);
      const execution = await saga.workflows.waitFor(`provision-${started.databaseId}`);

      // Assert
      expect(execution?.status).toBe('FAILED');
      const record = (await saga.services.databases.get(started.databaseId)) as TenantDatabaseRecord;
      expect(record).toMatchObject({ status: 'failed', statusReason: reason });
      expect(await databaseExists(record.databaseName)).toBe(false);
      const modules = await new ModuleRegistry(saga.services.control).ofTenant(tenantId);
      expect(modules.filter((m) => m.databaseId === record.id)).toEqual([]);
      expect(await rowsOf(source)).toEqual(originalRows);
      expect((await saga.services.databases.get(source.id))?.status).toBe('active');
      saga.faults = [];
    },
  );

  it('a part missing from the store fails the restore (BackupIntegrityError), nothing half-made', async () => {
    // Arrange
    const { id, database } = await backUp(source);
    const notes = database.tables.find((t) => t.name === 'notes');
    await saga.backupStore.delete(tenantId, [
      partKey(`${id}/${source.id}`, 'notes', notes?.parts[0]?.index ?? 1),
    ]);

    // Act
    const started = await startRestore(saga.services, tenantId, id, source.id);
    const execution = await saga.workflows.waitFor(`provision-${started.databaseId}`);

    // Assert
    expect(execution?.status).toBe('FAILED');
    const record = (await saga.services.databases.get(started.databaseId)) as TenantDatabaseRecord;
    expect(record).toMatchObject({ status: 'failed', statusReason: 'BackupIntegrityError during restore' });
    expect(await databaseExists(record.databaseName)).toBe(false);
  });

  it('refuses, writing nothing: a backup not completed (409), a database it does not hold or another tenant (404)', async () => {
    // Arrange
    const running = newBackupId();
    await new BackupRepository(saga.services.control).create({
      id: running,
      tenantId,
      trigger: 'request',
      databaseIds: null,
      requestedBy: null,
    });
    const count = async () => (await saga.services.databases.ofTenant(tenantId)).length;
    const before = await count();
    const other = await registerTenant(
      saga.services,
      { userId: randomUUID(), email: `other-${randomUUID().slice(0, 8)}@example.com` },
      { name: 'Neighbour' },
    );
    await saga.workflows.waitFor(provisioningExecutionName(other.id));

    // Act / Assert
    await expect(startRestore(saga.services, tenantId, running, source.id)).rejects.toThrow(Conflict);
    await expect(startRestore(saga.services, tenantId, backupId, 'd_aaaaaaaaaaaaaaaa')).rejects.toThrow(
      NotFound,
    );
    await expect(startRestore(saga.services, other.id, backupId, source.id)).rejects.toThrow(NotFound);
    expect(await count()).toBe(before);
    await new BackupRepository(saga.services.control).fail(running, 'test done');
  });

  it('counts restores against the databases quota: a full one is refused, nothing made', async () => {
    // Arrange
    await saga.services.control.execute(
      `update tenants set plan_overrides = '{"databases": 1}'::jsonb where id = :tenantId`,
      { tenantId },
    );
    const before = (await saga.services.databases.ofTenant(tenantId)).length;

    // Act
    const refused = await startRestore(saga.services, tenantId, backupId, source.id).catch((e: unknown) => e);

    // Assert
    expect((refused as Error).name).toBe('QuotaExceeded');
    expect((await saga.services.databases.ofTenant(tenantId)).length).toBe(before);
    await saga.services.control.execute(
      `update tenants set plan_overrides = '{}'::jsonb where id = :tenantId`,
      {
        tenantId,
      },
    );
  });

  it('a restoring database blocks its drop and the offboarding, like a provisioning one', async () => {
    // Arrange: a restore recorded, its workflow not run yet (the harness runs it on start, so
    // the record is made restoring by hand).
    const started = await startRestore(saga.services, tenantId, backupId, source.id);
    await saga.workflows.waitFor(`provision-${started.databaseId}`);
    await saga.services.databases.transition(started.databaseId, ['active'], 'restoring');

    // Act / Assert
    await expect(dropDatabase(saga.services, tenantId, started.databaseId)).rejects.toThrow(Conflict);
    await expect(offboard(saga.services, tenantId)).rejects.toThrow(/still being provisioned/);
    await saga.services.databases.transition(started.databaseId, ['restoring'], 'active');
  });
});
