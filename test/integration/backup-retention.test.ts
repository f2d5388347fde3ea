import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { FileBackupStore } from '#shared/adapters/file-backup-store';
import { manifestKey } from '#shared/backups/manifest';
import type { RetentionDeps } from '#shared/backups/retention';
import {
  BackupScheduleIncomplete,
  backupExpiry,
  deleteExpiredBackups,
  runBackupSchedule,
  startScheduledBackups,
} from '#shared/backups/retention';
import { BackupRepository } from '#shared/control/backup-repository';
import { DatabaseRegistry } from '#shared/control/database-registry';
import { newBackupId, newDatabaseId, newTenantId } from '#shared/control/ids';
import { TenantRepository } from '#shared/control/tenant-repository';
import { DEFAULT_PLAN_SETTINGS, effectiveLimits } from '#shared/domain/plans';
import { NotFound } from '#shared/errors';
import type { BackupStore } from '#shared/ports/backup-store';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { RECORD_JOB_HANDLERS } from '#shared/records/scheduled-jobs';
import { clientFor, newActor, newTenant } from '../support/actors.ts';
import { invokeLocalFunction } from '../support/local-jobs.ts';
import { createControlDatabase, expectStatus, type TempDatabase, withPg } from '../support/tenancy.ts';

/**
 * The daily backup job in-process (shared/backups/retention.ts): the schedule and retention
 * against a control database of their own and a FileBackupStore in a temporary folder, the
 * workflow starter a fake that records what it was asked to start.
 */

const info = inject('platform');
let db: TempDatabase;
let dir: string;
let store: FileBackupStore;
let backups: BackupRepository;
let tenants: TenantRepository;
const started: { name: string; input: Record<string, unknown> }[] = [];
const workflows: WorkflowStarter = {
  start: async (name, input) => {
    started.push({ name, input });
    return { executionId: `arn:local:${name}` };
  },
  describe: async () => null,
};
const deps = (overrides: Partial<RetentionDeps> = {}): RetentionDeps => ({
  control: db.runner,
  tenants,
  databases: new DatabaseRegistry(db.runner),
  workflows,
  backupStore: store,
  ...overrides,
});

let ownerNumber = 0;
async function tenant(status: 'active' | 'suspended' | 'deleted' | 'provisioning' = 'active', databases = 1) {
  const tenantId = newTenantId();
  ownerNumber++;
  await tenants.create({
    tenantId,
    name: `Retention ${ownerNumber}`,
    settings: {},
    owner: {
      userId: `00000000-0000-4000-8000-${String(ownerNumber).padStart(12, '0')}`,
      email: `retention-${ownerNumber}@example.com`,
    },
    status: 'active',
  });
  for (let i = 0; i < databases; i++) {
    await db.runner.execute(
      `insert into tenant_databases (id, tenant_id, label, is_primary, status, database_name, role_name)
       values (:id, :tenantId, :label, :primary, 'active', :name, :role)`,
      {
        id: newDatabaseId(),
        tenantId,
        label: `db${i}`,
        primary: i === 0,
        name: `ret_${ownerNumber}_${i}`,
        role: `ret_role_${ownerNumber}_${i}`,
      },
    );
  }
  if (status !== 'active') await setTenantStatus(tenantId, status);
  return tenantId;
}
const setTenantStatus = (tenantId: string, status: string) =>
  db.runner.execute('update tenants set status = :status where id = :tenantId', { tenantId, status });

/** A completed backup with a manifest and two parts in the store; `startedHoursAgo` moves its times back. */
async function completedBackup(
  tenantId: string,
  options: { expiresAt: string | null; trigger?: 'request' | 'schedule'; startedHoursAgo?: number },
) {
  const id = newBackupId();
  await backups.create({
    id,
    tenantId,
    trigger: options.trigger ?? 'request',
    databaseIds: null,
    requestedBy: null,
  });
  await store.put(tenantId, `${id}/db_1/items/part-00001.ndjson.gz`, new Uint8Array([1, 2, 3]));
  await store.put(tenantId, `${id}/db_1/items/part-00002.ndjson.gz`, new Uint8Array([4, 5]));
  await store.put(tenantId, manifestKey(id), new TextEncoder().encode('{"format":1}'));
  const completed = await backups.complete(id, {
    manifest: { databases: [], settings: {}, modules: [], roles: [] } as never,
    bytes: 5,
    expiresAt: options.expiresAt,
  });
  expect(completed).toBe(true);
  if (options.startedHoursAgo) {
    await db.runner.execute(
      `update backups set started_at = now() - make_interval(hours => :hours::int),
              completed_at = now() - make_interval(hours => :hours::int) + interval '1 minute'
        where id = :id`,
      { id, hours: options.startedHoursAgo },
    );
  }
  return id;
}

const listedIds = async (tenantId: string) =>
  (await backups.list(tenantId, 50, undefined)).items.map((b) => b.id);
const keysOf = async (tenantId: string, backupId: string) =>
  (await store.list(tenantId, `${backupId}/`)).map((object) => object.key);
const past = () => new Date(Date.now() - 60_000).toISOString();
const future = (days = 7) => new Date(Date.now() + days * 86_400_000).toISOString();

beforeAll(async () => {
  db = await createControlDatabase(info, 'retention');
  dir = await mkdtemp(path.join(tmpdir(), 'tenantry-retention-'));
  store = new FileBackupStore(dir);
  backups = new BackupRepository(db.runner);
  tenants = new TenantRepository(db.runner);
});

afterAll(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  started.length = 0;
  // Each test sees only its own tenants as due or expired.
  await db.runner.execute(`update tenants set status = 'suspended' where status = 'active'`);
  await db.runner.execute(
    `update backups set deleted_at = now() where deleted_at is null and status <> 'running'`,
  );
});

describe('retention', () => {
  it('deletes an expired backup’s objects, then it leaves the list (404 on its own); an unexpired one stays whole', async () => {
    // Arrange
    const tenantId = await tenant();
    const expired = await completedBackup(tenantId, { expiresAt: past() });
    const kept = await completedBackup(tenantId, { expiresAt: future() });
    expect(await keysOf(tenantId, expired)).toHaveLength(3);

    // Act
    const result = await deleteExpiredBackups(deps());

    // Assert
    expect(result).toEqual({ deleted: 1, objects: 3, failed: 0 });
    expect(await keysOf(tenantId, expired)).toEqual([]);
    expect(await listedIds(tenantId)).toEqual([kept]);
    await expect(backups.ownedBy(tenantId, expired)).rejects.toThrow(NotFound);
    expect((await backups.get(expired))?.deletedAt).not.toBeNull();
    expect(await keysOf(tenantId, kept)).toHaveLength(3);
    expect((await backups.ownedBy(tenantId, kept)).id).toBe(kept);
    // A second run finds nothing to do.
    expect(await deleteExpiredBackups(deps())).toEqual({ deleted: 0, objects: 0, failed: 0 });
  });

  it('pages through many expired backups (keyset), a few at a time', async () => {
    const tenantId = await tenant();
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push(await completedBackup(tenantId, { expiresAt: past() }));

    const result = await deleteExpiredBackups(deps(), { pageSize: 2, concurrency: 2 });

    expect(result).toEqual({ deleted: 7, objects: 21, failed: 0 });
    expect(await listedIds(tenantId)).toEqual([]);
    for (const id of ids) expect(await keysOf(tenantId, id)).toEqual([]);
  });

  it('deletes every backup of an offboarded tenant, expired or not, and no other tenant’s', async () => {
    const leaving = await tenant();
    const staying = await tenant();
    const leavingBackups = [
      await completedBackup(leaving, { expiresAt: future(90) }),
      await completedBackup(leaving, { expiresAt: null }),
    ];
    const stayingBackup = await completedBackup(staying, { expiresAt: future(90) });
    await setTenantStatus(leaving, 'deleted');

    const result = await deleteExpiredBackups(deps());

    expect(result).toMatchObject({ deleted: 2, failed: 0 });
    for (const id of leavingBackups) expect(await keysOf(leaving, id)).toEqual([]);
    expect(await listedIds(leaving)).toEqual([]);
    expect(await listedIds(staying)).toEqual([stayingBackup]);
    expect(await keysOf(staying, stayingBackup)).toHaveLength(3);
  });

  it('never touches a running backup, even of an offboarded tenant', async () => {
    const tenantId = await tenant();
    const running = newBackupId();
    await backups.create({ id: running, tenantId, trigger: 'request', databaseIds: null, requestedBy: null });
    await store.put(tenantId, `${running}/db_1/items/part-00001.ndjson.gz`, new Uint8Array([1]));
    await setTenantStatus(tenantId, 'deleted');

    expect(await deleteExpiredBackups(deps())).toEqual({ deleted: 0, objects: 0, failed: 0 });
    expect(await keysOf(tenantId, running)).toHaveLength(1);
    expect((await backups.get(running))?.status).toBe('running');
  });

  it('leaves a backup listed when deleting its objects fails, deletes it on the next run, and the run fails so it is retried', async () => {
    // Arrange: the store refuses deletes of one backup's parts (after the manifest went).
    const tenantId = await tenant();
    const failing = await completedBackup(tenantId, { expiresAt: past() });
    const other = await completedBackup(tenantId, { expiresAt: past() });
    const refusing: BackupStore = {
      put: (t, k, b) => store.put(t, k, b),
      get: (t, k) => store.get(t, k),
      list: (t, p) => store.list(t, p),
      delete: async (t, keys) => {
        if (keys.some((key) => key.startsWith(`${failing}/db_1/`))) throw new Error('AccessDenied');
        await store.delete(t, keys);
      },
    };

    // Act
    const run = runBackupSchedule(deps({ backupStore: refusing }), { scheduledBackups: false });

    // Assert: the run fails (Lambda retries it), after deleting what it could.
    const error = await run.catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(BackupScheduleIncomplete);
    expect((error as BackupScheduleIncomplete).result.retention).toEqual({
      deleted: 1,
      objects: 3,
      failed: 1,
    });
    expect(await listedIds(tenantId)).toEqual([failing]);
    // Its manifest went first (so no restore trusts it), its parts are still there, it is still listed.
    expect(await keysOf(tenantId, failing)).toEqual([
      `${failing}/db_1/items/part-00001.ndjson.gz`,
      `${failing}/db_1/items/part-00002.ndjson.gz`,
    ]);
    expect(await keysOf(tenantId, other)).toEqual([]);

    // The next run, with a store that deletes, finishes it.
    expect(await deleteExpiredBackups(deps())).toEqual({ deleted: 1, objects: 2, failed: 0 });
    expect(await listedIds(tenantId)).toEqual([]);
    expect(await keysOf(tenantId, failing)).toEqual([]);
  });

  it('does not mark a backup deleted while an object is still in the store after the delete', async () => {
    const tenantId = await tenant();
    const id = await completedBackup(tenantId, { expiresAt: past() });
    // A store whose delete answers success but deletes nothing (an eventual listing, a silent refusal).
    const silent: BackupStore = { ...bound(store), delete: async () => {} };

    expect(await deleteExpiredBackups(deps({ backupStore: silent }))).toEqual({
      deleted: 0,
      objects: 0,
      failed: 1,
    });
    expect(await listedIds(tenantId)).toEqual([id]);
    expect(await keysOf(tenantId, id)).toHaveLength(3);
  });

  it('gives a completed backup its plan’s retention, or the tenant’s override', async () => {
    const completedAt = '2026-03-01T02:15:00.000Z';
    const free = effectiveLimits(DEFAULT_PLAN_SETTINGS, 'free');
    const standard = effectiveLimits(DEFAULT_PLAN_SETTINGS, 'standard');
    const overridden = effectiveLimits(DEFAULT_PLAN_SETTINGS, 'free', { backupRetentionDays: 45 });
    expect(backupExpiry(free, completedAt)).toBe('2026-03-08T02:15:00.000Z');
    expect(backupExpiry(standard, new Date(completedAt))).toBe('2026-03-31T02:15:00.000Z');
    expect(backupExpiry(overridden, completedAt)).toBe('2026-04-15T02:15:00.000Z');

    // Stored as given: a backup completed with it expires then, and not before.
    const tenantId = await tenant();
    const id = await completedBackup(tenantId, { expiresAt: backupExpiry(overridden, new Date()) });
    const record = await backups.ownedBy(tenantId, id);
    const expected = Date.parse(record.completedAt as string) + 45 * 86_400_000;
    expect(Math.abs(Date.parse(record.expiresAt as string) - expected)).toBeLessThan(5_000);
    expect(await deleteExpiredBackups(deps(), { now: new Date(expected - 60_000) })).toMatchObject({
      deleted: 0,
    });
    expect(await deleteExpiredBackups(deps(), { now: new Date(expected + 60_000) })).toMatchObject({
      deleted: 1,
    });
  });
});

const bound = (s: BackupStore): BackupStore => ({
  put: (t, k, b) => s.put(t, k, b),
  get: (t, k) => s.get(t, k),
  list: (t, p) => s.list(t, p),
  delete: (t, k) => s.delete(t, k),
});

describe('the schedule', () => {
  it('starts a schedule backup of a due tenant, and none of one backed up recently, suspended, offboarded or provisioning', async () => {
    // Arrange
    const never = await tenant();
    const yesterday = await tenant();
    await completedBackup(yesterday, { trigger: 'schedule', expiresAt: future(), startedHoursAgo: 25 });
    const recent = await tenant();
    await completedBackup(recent, { trigger: 'schedule', expiresAt: future(), startedHoursAgo: 3 });
    const suspended = await tenant('suspended');
    const offboarded = await tenant('deleted');
    const provisioning = await tenant('provisioning');

    // Act
    const result = await startScheduledBackups(deps());

    // Assert
    expect(result).toEqual({ started: 2, skipped: 0, failed: 0 });
    const startedFor = started.map((start) => start.input.tenantId).sort();
    expect(startedFor).toEqual([never, yesterday].sort());
    for (const start of started) {
      expect(start.input).toMatchObject({ operation: 'backup' });
      expect(start.name).toBe(`backup-${start.input.backupId}`);
    }
    for (const tenantId of [never, yesterday]) {
      const latest = await backups.latestScheduled(tenantId);
      expect(latest).toMatchObject({
        status: 'running',
        trigger: 'schedule',
        requestedBy: null,
        databaseIds: null,
      });
    }
    for (const tenantId of [recent, suspended, offboarded, provisioning]) {
      expect(started.some((start) => start.input.tenantId === tenantId)).toBe(false);
    }
    for (const tenantId of [suspended, offboarded, provisioning])
      expect(await listedIds(tenantId)).toEqual([]);

    // A second run the same day starts nothing: the running ones count as today's.
    started.length = 0;
    expect(await startScheduledBackups(deps())).toEqual({ started: 0, skipped: 0, failed: 0 });
    expect(started).toEqual([]);
  });

  it('skips a tenant with a running backup (409 backup_running is no failure) or no active database', async () => {
    const busy = await tenant();
    await backups.create({
      id: newBackupId(),
      tenantId: busy,
      trigger: 'request',
      databaseIds: null,
      requestedBy: null,
    });
    await tenant('active', 0); // no database: skipped
    const fine = await tenant();

    const result = await startScheduledBackups(deps());

    expect(result).toEqual({ started: 1, skipped: 2, failed: 0 });
    expect(started.map((start) => start.input.tenantId)).toEqual([fine]);
    expect(await backups.latestScheduled(busy)).toBeNull();
  });

  it('a recent failed scheduled backup does not count: the tenant is due again', async () => {
    const tenantId = await tenant();
    const failed = newBackupId();
    await backups.create({ id: failed, tenantId, trigger: 'schedule', databaseIds: null, requestedBy: null });
    await backups.fail(failed, 'the dump failed');

    expect(await startScheduledBackups(deps())).toMatchObject({ started: 1 });
  });

  it('pages through thousands of tenants in bounded batches, never more starts at once than the concurrency', async () => {
    // Arrange: 50 due tenants, pages of 12, 4 at a time.
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await tenant());
    let inFlight = 0;
    let most = 0;
    const slow: WorkflowStarter = {
      start: async (name, input) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        return workflows.start(name, input);
      },
      describe: async () => null,
    };

    const result = await startScheduledBackups(deps({ workflows: slow }), { pageSize: 12, concurrency: 4 });

    expect(result).toEqual({ started: 50, skipped: 0, failed: 0 });
    expect(most).toBeLessThanOrEqual(4);
    expect(new Set(started.map((start) => start.input.tenantId))).toEqual(new Set(ids));
  });

  it('counts a tenant whose workflow cannot start as failed, leaves no running backup for it, goes on with the others, and fails the run', async () => {
    const unlucky = await tenant();
    const lucky = await tenant();
    const refusing: WorkflowStarter = {
      start: async (name, input) => {
        if (input.tenantId === unlucky) throw new Error('ThrottlingException');
        return workflows.start(name, input);
      },
      describe: async () => null,
    };

    const error = await runBackupSchedule(deps({ workflows: refusing }), { scheduledBackups: true }).catch(
      (thrown: unknown) => thrown,
    );

    expect(error).toBeInstanceOf(BackupScheduleIncomplete);
    expect((error as BackupScheduleIncomplete).result.schedule).toEqual({
      started: 1,
      skipped: 0,
      failed: 1,
    });
    expect(started.map((start) => start.input.tenantId)).toEqual([lucky]);
    const [record] = (await backups.list(unlucky, 5, undefined)).items;
    expect(record?.status).toBe('failed');
    // The retry starts it: a failed backup does not make the tenant not due.
    started.length = 0;
    expect(await runBackupSchedule(deps(), { scheduledBackups: true })).toMatchObject({
      schedule: { started: 1, failed: 0 },
    });
    expect(started.map((start) => start.input.tenantId)).toEqual([unlucky]);
  });

  it('turned off, starts no backup but still deletes expired ones', async () => {
    const tenantId = await tenant();
    const expired = await completedBackup(tenantId, { expiresAt: past() });

    const result = await runBackupSchedule(deps(), { scheduledBackups: false });

    expect(result).toEqual({ schedule: null, retention: { deleted: 1, objects: 3, failed: 0 } });
    expect(started).toEqual([]);
    expect(await listedIds(tenantId)).not.toContain(expired);
  });
});

describe('the job on the local platform (its own role, the platform’s control database and backups folder)', () => {
  const invoke = (payload: unknown) => invokeLocalFunction(info, RECORD_JOB_HANDLERS.backupSchedule, payload);

  it('deletes an expired backup with its objects (then GET …/backups no longer lists it); a bad input deletes nothing', async () => {
    // Arrange: a tenant through the API, two completed backups behind its back, objects in the platform's folder.
    const owner = await newActor(clientFor(info), 'retention-owner');
    const { tenantId } = await newTenant(owner);
    const platformStore = new FileBackupStore(path.join(info.stateDir, 'backups'));
    const [expired, kept] = [newBackupId(), newBackupId()];
    await withPg(info, 'control', async (client) => {
      for (const [id, expiresAt] of [
        [expired, past()],
        [kept, future()],
      ] as const) {
        await client.query(
          `insert into backups (id, tenant_id, status, trigger, started_at, completed_at, manifest, bytes, expires_at)
           values ($1, $2, 'completed', 'request', now() - interval '1 hour', now(), '{"databases":[],"settings":{},"modules":[],"roles":[]}', 3, $3)`,
          [id, tenantId, expiresAt],
        );
      }
    });
    for (const id of [expired, kept]) {
      await platformStore.put(tenantId, manifestKey(id), new Uint8Array([1]));
      await platformStore.put(tenantId, `${id}/db/items/part-00001.ndjson.gz`, new Uint8Array([2, 3]));
    }

    // Act 1: an input the job does not take.
    const refused = await invoke({ scheduledBackups: 'no' });
    // Assert 1: it fails before anything runs.
    expect(refused.error).toBeDefined();
    expect(await platformStore.list(tenantId, `${expired}/`)).toHaveLength(2);

    // Act 2: retention only.
    const ran = await invoke({ scheduledBackups: false });

    // Assert 2
    expect(ran.error, JSON.stringify(ran.body)).toBeUndefined();
    expect(ran.body).toMatchObject({ schedule: null, retention: { failed: 0 } });
    expect((ran.body as { retention: { deleted: number } }).retention.deleted).toBeGreaterThanOrEqual(1);
    expect(await platformStore.list(tenantId, `${expired}/`)).toEqual([]);
    expect(await platformStore.list(tenantId, `${kept}/`)).toHaveLength(2);
    const deletedAt = await withPg(
      info,
      'control',
      async (client) =>
        (
          await client.query('select id, deleted_at from backups where tenant_id = $1 order by id', [
            tenantId,
          ])
        ).rows,
    );
    expect(deletedAt.find((row) => row.id === expired)?.deleted_at).not.toBeNull();
    expect(deletedAt.find((row) => row.id === kept)?.deleted_at).toBeNull();
    // Through the API: the deleted backup is no longer listed, and reading it is a 404.
    const listed = expectStatus(await owner.call('GET', `/tenants/${tenantId}/backups`), 200);
    const ids = (listed.body as { items: { id: string }[] }).items.map((backup) => backup.id);
    expect(ids).toEqual([kept]);
    expectStatus(await owner.call('GET', `/tenants/${tenantId}/backups/${expired}`), 404);
    expectStatus(await owner.call('GET', `/tenants/${tenantId}/backups/${kept}`), 200);
  });
});
