import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FileBackupStore } from '#shared/adapters/file-backup-store';
import { offboardingDeps } from '#shared/composition/saga-deps';
import { OffboardingCertificates } from '#shared/control/offboarding-certificates';
import type { BackupStore } from '#shared/ports/backup-store';
import { databaseNameFor, roleNameFor, secretNameFor } from '#shared/provisioning/names';
import { offboardTenant } from '#shared/provisioning/offboarding';
import { provisioningExecutionName, registerTenant } from '#shared/tenancy/register-tenant';
import { type Actor, addMember, clientFor, eventually, newActor, newTenant } from '../support/actors.ts';
import { type SagaHarness, startSagaHarness } from '../support/saga-harness.ts';
import { errorOf, expectStatus, unknownTenantId, withPg } from '../support/tenancy.ts';
import { tenantSecretOf } from '../support/tenant-secrets.ts';

/**
 * GET /tenants/{tenantId}/offboarding-certificate (issue 19, part 4): what offboarding deleted,
 * when, and how each absence was verified — checked here against the engines themselves.
 */

const info = inject('platform');
const client = clientFor(info);
afterAll(() => client.close());

interface Certificate {
  tenantId: string;
  offboardedAt: string;
  resources: {
    type: string;
    id: string;
    deletedAt: string;
    verifiedAt: string;
    verification: { method: string; evidence: string };
  }[];
}

const certificatePath = (tenantId: string) => `/tenants/${tenantId}/offboarding-certificate`;

async function expectNoCertificate(actor: Actor, tenantId: string, label: string) {
  const response = await actor.call('GET', certificatePath(tenantId));
  expect(response.status, `${label}: ${JSON.stringify(response.body)}`).toBe(404);
  expect(errorOf(response)).toMatchObject({ code: 'not_found', message: 'Tenant not found' });
  expect(JSON.stringify(response.body)).not.toContain('resources');
}

describe('the offboarding certificate on the local platform', () => {
  let owner: Actor;
  let coOwner: Actor;
  let admin: Actor;
  let stranger: Actor;
  let platformAdmin: Actor;
  let tenantId: string;
  let databaseIds: string[];
  let backupId: string;

  beforeAll(async () => {
    [owner, coOwner, admin, stranger, platformAdmin] = await Promise.all([
      newActor(client, 'cert-owner'),
      newActor(client, 'cert-co-owner'),
      newActor(client, 'cert-admin'),
      newActor(client, 'cert-stranger'),
      newActor(client, 'cert-platform', { groups: ['platform-admin'] }),
    ]);
    tenantId = (await newTenant(owner, 'Certified')).tenantId;
    await addMember(owner, tenantId, coOwner, 'owner');
    await addMember(owner, tenantId, admin, 'admin');
    expectStatus(await owner.call('POST', `/tenants/${tenantId}/databases`, { label: 'second' }), 202);
    const databases = await eventually(
      async () =>
        (
          expectStatus(await owner.call('GET', `/tenants/${tenantId}/databases`), 200).body as {
            items: { id: string; status: string }[];
          }
        ).items,
      (items) => items.length === 2 && items.every((d) => d.status === 'active'),
      60_000,
    );
    databaseIds = databases.map((d) => d.id).sort();
    const backup = expectStatus(await owner.call('POST', `/tenants/${tenantId}/backups`, {}), 202).body as {
      id: string;
    };
    backupId = backup.id;
    const done = await eventually(
      async () => (await owner.call('GET', `/tenants/${tenantId}/backups/${backupId}`)).body,
      (body) => (body as { status?: string }).status !== 'running',
      60_000,
    );
    expect(done).toMatchObject({ status: 'completed' });
  }, 180_000);

  it('before offboarding there is none, for the owner and a platform admin alike', async () => {
    await expectNoCertificate(owner, tenantId, 'owner');
    await expectNoCertificate(platformAdmin, tenantId, 'platform admin');
  });

  it('after offboarding it lists exactly what was deleted, each verified, and each is gone from its engine', async () => {
    expectStatus(await owner.call('DELETE', `/tenants/${tenantId}`), 202);
    await eventually(
      () => owner.call('GET', `/tenants/${tenantId}`),
      (r) => r.status === 404,
      60_000,
    );

    const response = await eventually(
      () => owner.call('GET', certificatePath(tenantId)),
      (r) => r.status === 200,
    );
    const certificate = expectStatus(response, 200).body as Certificate;

    const ofType = (type: string) => certificate.resources.filter((r) => r.type === type).map((r) => r.id);
    expect(certificate.tenantId).toBe(tenantId);
    expect(ofType('database').sort()).toEqual(databaseIds);
    expect(ofType('role')).toEqual([roleNameFor(tenantId)]);
    expect(ofType('secret')).toEqual([secretNameFor(info.stage, tenantId)]);
    expect(ofType('backup')).toEqual([backupId]);
    expect(ofType('exports')).toEqual([`backups/${tenantId}/`]);
    expect(certificate.resources).toHaveLength(6);
    for (const resource of certificate.resources) {
      expect(Date.parse(resource.deletedAt)).toBeLessThanOrEqual(Date.parse(resource.verifiedAt));
      expect(Date.parse(resource.verifiedAt)).toBeLessThanOrEqual(Date.parse(certificate.offboardedAt));
      expect(resource.verification.method).not.toBe('none');
    }
    expect(certificate.resources.find((r) => r.type === 'secret')?.verification.method).toBe(
      'secretsmanager:DescribeSecret',
    );

    // The engines agree: no database, no role, no secret, no object of the tenant anywhere.
    const leftovers = await withPg(info, 'postgres', async (pg) => ({
      databases: (
        await pg.query('select datname from pg_database where datname = any($1)', [
          databaseIds.map(databaseNameFor),
        ])
      ).rowCount,
      roles: (await pg.query('select 1 from pg_roles where rolname = $1', [roleNameFor(tenantId)])).rowCount,
    }));
    expect(leftovers).toEqual({ databases: 0, roles: 0 });
    expect(await tenantSecretOf(info, tenantId)).toBeNull();
    expect(await new FileBackupStore(path.join(info.stateDir, 'backups')).list(tenantId, '')).toEqual([]);
    // The backup left the list the retention job reads.
    const backupRow = await withPg(info, 'control', (pg) =>
      pg.query('select deleted_at from backups where id = $1', [backupId]),
    );
    expect(backupRow.rows[0]?.deleted_at).not.toBeNull();
  });

  it('both former owners and a platform admin read it; a former admin and a stranger get 404', async () => {
    const byOwner = expectStatus(await owner.call('GET', certificatePath(tenantId)), 200).body;
    expect(expectStatus(await coOwner.call('GET', certificatePath(tenantId)), 200).body).toEqual(byOwner);
    expect(expectStatus(await platformAdmin.call('GET', certificatePath(tenantId)), 200).body).toEqual(
      byOwner,
    );
    await expectNoCertificate(admin, tenantId, 'former admin');
    await expectNoCertificate(stranger, tenantId, 'stranger');
  });

  it('after 30 days the former owners get 404, a platform admin still reads it', async () => {
    const moveBack = (days: number) =>
      withPg(info, 'control', (pg) =>
        pg.query(
          `update offboarding_certificates set offboarded_at = now() - make_interval(days => $2) where tenant_id = $1`,
          [tenantId, days],
        ),
      );
    await moveBack(29);
    expectStatus(await owner.call('GET', certificatePath(tenantId)), 200);

    await moveBack(31);

    await expectNoCertificate(owner, tenantId, 'owner after 31 days');
    await expectNoCertificate(coOwner, tenantId, 'co-owner after 31 days');
    expectStatus(await platformAdmin.call('GET', certificatePath(tenantId)), 200);
  });

  it('a pooled tenant: its database is verified gone from the pool database by its schema', async () => {
    const pooledOwner = await newActor(client, 'cert-pooled');
    const pooled = (
      await newTenant(pooledOwner, 'Certified pooled', {}, { isolation: 'pool', registrar: platformAdmin })
    ).tenantId;
    const [database] = (
      expectStatus(await pooledOwner.call('GET', `/tenants/${pooled}/databases`), 200).body as {
        items: { id: string }[];
      }
    ).items;
    expectStatus(await pooledOwner.call('DELETE', `/tenants/${pooled}`), 202);

    const response = await eventually(
      () => pooledOwner.call('GET', certificatePath(pooled)),
      (r) => r.status === 200,
      60_000,
    );

    const certificate = expectStatus(response, 200).body as Certificate;
    const entry = certificate.resources.find((r) => r.type === 'database');
    expect(entry?.id).toBe(database?.id);
    expect(entry?.verification.method).toBe('pg_namespace');
    const schema = /no schema (\S+) in/.exec(entry?.verification.evidence ?? '')?.[1] ?? '';
    const left = await withPg(info, 'tenantry_pool', (pg) =>
      pg.query('select 1 from pg_namespace where nspname = $1', [schema]),
    );
    expect(schema).not.toBe('');
    expect(left.rowCount).toBe(0);
    expect(certificate.resources.map((r) => r.type)).toEqual(['database', 'role', 'secret', 'exports']);
  }, 120_000);

  it('an unknown tenant and an active one answer 404, like any tenant not offboarded', async () => {
    const active = (await newTenant(stranger, 'Still here')).tenantId;

    await expectNoCertificate(platformAdmin, unknownTenantId(), 'unknown, platform admin');
    await expectNoCertificate(stranger, active, 'active, its owner');
    await expectNoCertificate(platformAdmin, active, 'active, platform admin');
    const malformed = await platformAdmin.call('GET', certificatePath('not-a-tenant'));
    expect(malformed.status).toBe(400);
  });
});

describe('offboarding records each resource once, whatever runs again', () => {
  let saga: SagaHarness;

  beforeAll(async () => {
    saga = await startSagaHarness(info);
  });
  afterAll(async () => {
    await saga?.close();
  });

  it('a step that fails after some deletions, run again, completes one certificate with the first times', async () => {
    const owner = { userId: randomUUID(), email: `cert-saga-${randomUUID().slice(0, 8)}@example.com` };
    const tenant = await registerTenant(saga.services, owner, { name: 'Certified twice' });
    expect((await saga.workflows.waitFor(provisioningExecutionName(tenant.id)))?.status).toBe('SUCCEEDED');
    // An object no backup record names (a move's copy part): offboarding deletes it too.
    await saga.backupStore.put(
      tenant.id,
      'm_aaaaaaaaaaaaaaaa/d_x/part-00001.ndjson.gz',
      new Uint8Array([1, 2]),
    );
    await saga.services.tenants.transition(tenant.id, ['active'], 'deleting');
    const deps = offboardingDeps(saga.services);
    let failDelete = true;
    const flaky: BackupStore = {
      put: (...args) => saga.backupStore.put(...args),
      get: (...args) => saga.backupStore.get(...args),
      list: (...args) => saga.backupStore.list(...args),
      delete: async (...args) => {
        if (failDelete) throw new Error('injected: the store is unavailable');
        return saga.backupStore.delete(...args);
      },
    };
    const certificates = new OffboardingCertificates(saga.services.control);

    const first = await offboardTenant({ ...deps, backupStore: flaky }, tenant.id).catch(
      (error: Error) => error,
    );
    const halfway = await certificates.get(tenant.id);
    failDelete = false;
    const second = await offboardTenant({ ...deps, backupStore: flaky }, tenant.id);
    const third = await offboardTenant({ ...deps, backupStore: flaky }, tenant.id);
    const done = await certificates.get(tenant.id);

    expect(first).toBeInstanceOf(Error);
    expect((await saga.services.tenants.get(tenant.id))?.status).toBe('deleted');
    expect(halfway?.offboardedAt).toBeNull();
    expect(halfway?.formerOwners).toEqual([owner.userId]);
    expect(halfway?.resources.map((r) => r.type)).toEqual(['database', 'role', 'secret']);
    expect(second).toMatchObject({ offboarded: true });
    expect(third).toEqual({ offboarded: false });
    expect(done?.formerOwners).toEqual([owner.userId]);
    expect(done?.offboardedAt).not.toBeNull();
    expect(done?.resources.map((r) => r.type)).toEqual(['database', 'role', 'secret', 'exports']);
    for (const type of ['database', 'role', 'secret']) {
      const before = halfway?.resources.find((r) => r.type === type);
      const after = done?.resources.find((r) => r.type === type);
      expect(after?.deletedAt, type).toBe(before?.deletedAt);
      expect(after?.verifiedAt, type).not.toBeNull();
    }
    expect(await saga.backupStore.list(tenant.id, '')).toEqual([]);
  });
});
