import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { FileBackupStore } from '#shared/adapters/file-backup-store';
import { backupDatabase } from '#shared/backups/backup-database';
import {
  encodeManifest,
  MANIFEST_FORMAT,
  manifestBytes,
  manifestKey,
  manifestView,
} from '#shared/backups/manifest';
import { BackupRepository } from '#shared/control/backup-repository';
import { newBackupId } from '#shared/control/ids';
import { SIMPLE_TYPES } from '#shared/data/column-types';
import { type Actor, addMember, newActor } from '../support/actors.ts';
import { dataApiRunner, expectStatus } from '../support/tenancy.ts';
import { databaseNameOf, tenantWithDatabase } from '../support/tenant-data.ts';
import { tenantSecretOf } from '../support/tenant-secrets.ts';

/**
 * `POST …/backups/{backupId}/restore` on the local platform: tables and rows made through the
 * routes, a backup taken in this process into the platform's own backup store (`<stateDir>/backups`)
 * and recorded in its control database as the backup workflow records one (that workflow is
 * another branch's), then restored by the platform's saga and compared through the rows API.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

type Row = Record<string, unknown> & { id: string };

/** A completed backup of one database, made as the backup workflow makes one. */
async function backUp(tenantId: string, databaseId: string): Promise<string> {
  const secret = await tenantSecretOf(info, tenantId);
  if (!secret) throw new Error('no tenant secret');
  const tenantSql = dataApiRunner(info, await databaseNameOf(info, databaseId), secret.arn);
  const control = dataApiRunner(info, 'control');
  const store = new FileBackupStore(path.join(info.stateDir, 'backups'));
  try {
    const backupId = newBackupId();
    const backups = new BackupRepository(control.runner);
    await backups.create({
      id: backupId,
      tenantId,
      trigger: 'request',
      databaseIds: null,
      requestedBy: null,
    });
    const startedAt = new Date().toISOString();
    const database = await backupDatabase(tenantSql.runner, {
      store,
      tenantId,
      backupId,
      databaseId,
      label: 'main',
    });
    const manifest = {
      format: MANIFEST_FORMAT,
      backupId,
      tenantId,
      startedAt,
      completedAt: new Date().toISOString(),
      databases: [database],
      settings: {},
      modules: [],
      roles: [],
    } as const;
    await store.put(tenantId, manifestKey(backupId), encodeManifest(manifest));
    await backups.complete(backupId, {
      manifest: manifestView(manifest),
      bytes: manifestBytes(manifest),
      expiresAt: null,
    });
    return backupId;
  } finally {
    tenantSql.close();
    control.close();
  }
}

async function databasesOf(actor: Actor, tenantId: string) {
  return (
    expectStatus(await actor.call('GET', `/tenants/${tenantId}/databases`), 200).body as {
      items: { id: string; status: string; statusReason: string | null }[];
    }
  ).items;
}

async function waitActive(actor: Actor, tenantId: string, databaseId: string) {
  for (let i = 0; i < 120; i += 1) {
    const db = (await databasesOf(actor, tenantId)).find((d) => d.id === databaseId);
    if (db && db.status !== 'restoring' && db.status !== 'provisioning') return db;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the restore did not finish');
}

async function rowsOf(actor: Actor, tenantId: string, databaseId: string): Promise<Row[]> {
  const page = expectStatus(
    await actor.call('GET', `/tenants/${tenantId}/databases/${databaseId}/tables/every/rows?limit=100`),
    200,
  ).body as { items: Row[] };
  return [...page.items].sort((a, b) => a.id.localeCompare(b.id));
}

describe('restoring a backup through the API', () => {
  let owner: Actor;
  let tenantId: string;
  let databaseId: string;
  let base: string;
  let backupId: string;
  let backedUp: Row[];

  beforeAll(async () => {
    owner = await newActor(client, 'restore-owner');
    ({ tenantId, databaseId, base } = await tenantWithDatabase(owner));
    // Every column type a tenant can create (shared/data/column-types.ts).
    const columns = [
      ...SIMPLE_TYPES.map((type) => ({ name: `c_${type}`, type })),
      { name: 'c_money', type: 'numeric(30,10)' },
    ];
    expectStatus(await owner.call('POST', `${base}/tables`, { name: 'every', columns }), 201);
    const rows = [
      {
        c_text: 'unicode é 😀 "quoted" \\ back\nline',
        c_integer: -2147483648,
        c_bigint: '9223372036854775807',
        c_boolean: true,
        c_date: '2024-02-29',
        c_timestamptz: '2024-02-29T23:59:59.123456Z',
        c_uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        c_jsonb: { b: 1, a: [1, 2.5, { z: null }] },
        c_numeric: '-0.000000000000000000012345678901234567890',
        c_money: '12345678901234567890.0123456789',
      },
      { c_text: '', c_integer: 0, c_boolean: false, c_jsonb: null },
      {},
    ];
    for (const row of rows) expectStatus(await owner.call('POST', `${base}/tables/every/rows`, row), 201);
    backedUp = await rowsOf(owner, tenantId, databaseId);
    backupId = await backUp(tenantId, databaseId);
  });

  it('restores every column type into a new database: rows identical (ids and timestamps too); deleted rows come back there only', async () => {
    // Arrange: a row deleted after the backup.
    const gone = backedUp[0]?.id ?? '';
    expectStatus(await owner.call('DELETE', `${base}/tables/every/rows/${gone}`), 204, 200);

    // Act
    const response = expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/backups/${backupId}/restore`, { databaseId }),
      202,
    );
    const restored = response.body as { databaseId: string; status: string; backupId: string };
    const done = await waitActive(owner, tenantId, restored.databaseId);

    // Assert
    expect(restored).toMatchObject({ status: 'restoring', backupId, sourceDatabaseId: databaseId });
    expect(done.status).toBe('active');
    expect(await rowsOf(owner, tenantId, restored.databaseId)).toEqual(backedUp);
    const original = await rowsOf(owner, tenantId, databaseId);
    expect(original.map((r) => r.id)).not.toContain(gone);
    expect(original).toHaveLength(backedUp.length - 1);
    const status = expectStatus(await owner.call('GET', `/tenants/${tenantId}/provisioning`), 200).body as {
      databases: { id: string; restoredFrom?: unknown }[];
    };
    expect(status.databases.find((d) => d.id === restored.databaseId)?.restoredFrom).toEqual({
      backupId,
      databaseId,
    });
  });

  it("answers 404 for another tenant's backup and for a database the backup does not hold", async () => {
    const neighbour = await newActor(client, 'restore-neighbour');
    const other = await tenantWithDatabase(neighbour);
    const before = await databasesOf(neighbour, other.tenantId);
    expectStatus(
      await neighbour.call('POST', `/tenants/${other.tenantId}/backups/${backupId}/restore`, {
        databaseId: other.databaseId,
      }),
      404,
    );
    expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/backups/${backupId}/restore`, {
        databaseId: other.databaseId,
      }),
      404,
    );
    expect(await databasesOf(neighbour, other.tenantId)).toEqual(before);
  });

  it('answers 403 to a member without backups:write, and 400 to bad input, creating nothing', async () => {
    const member = await newActor(client, 'restore-member');
    await addMember(owner, tenantId, member, 'member');
    const before = await databasesOf(owner, tenantId);
    const url = `/tenants/${tenantId}/backups/${backupId}/restore`;
    expectStatus(await member.call('POST', url, { databaseId }), 403);
    for (const body of [{}, { databaseId: 'nope' }, { databaseId, extra: 1 }, { databaseId: 7 }]) {
      expectStatus(await owner.call('POST', url, body), 400);
    }
    expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/backups/not-a-backup/restore`, { databaseId }),
      400,
    );
    expect(await databasesOf(owner, tenantId)).toEqual(before);
  });
});
