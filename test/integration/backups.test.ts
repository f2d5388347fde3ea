import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { decodeManifest, manifestKey } from '#shared/backups/manifest';
import { openTenantDatabase } from '#shared/data/tenant-database';
import { backupExecutionName, startBackup } from '#shared/tenancy/backups';
import { provisioningExecutionName, registerTenant } from '#shared/tenancy/register-tenant';
import type { ProvisioningStep } from '#shared/workflows/provisioning';
import { type Actor, addMember, eventually, newActor } from '../support/actors.ts';
import { type SagaHarness, startSagaHarness } from '../support/saga-harness.ts';
import { errorOf, expectStatus, withPg } from '../support/tenancy.ts';
import { COMPLETE_SETTINGS, inTenantDatabase, tenantWithDatabase } from '../support/tenant-data.ts';

/**
 * Backups (issue 17) end to end on the local platform: POST, the workflow, the manifest and the
 * objects in the state folder, list pages, permissions, another tenant's backup id, one running
 * backup per tenant, bad input; and with the saga harness, a failure at each step of the backup
 * leaves no completed backup and no object under its prefix.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

type Backup = {
  id: string;
  status: string;
  reason?: string;
  bytes: number | null;
  manifest: {
    databases: {
      databaseId: string;
      tables: { name: string; rows: number; bytes: number; sha256: string }[];
    }[];
    settings: Record<string, unknown>;
    modules: Record<string, unknown>[];
    roles: Record<string, unknown>[];
  } | null;
  workflow?: { status: string; steps: { name: string }[] } | null;
};

async function finished(actor: Actor, tenantId: string, backupId: string): Promise<Backup> {
  const response = await eventually(
    () => actor.call('GET', `/tenants/${tenantId}/backups/${backupId}`),
    (r) => (r.body as Backup).status !== 'running',
    90_000,
  );
  return expectStatus(response, 200).body as Backup;
}

describe('backups on the local platform', () => {
  let owner: Actor;
  let member: Actor;
  let holder: Actor;
  let stranger: Actor;
  let tenantId: string;
  let databaseId: string;
  let strangerTenant: string;
  let roleId: string;
  let first: Backup;

  beforeAll(async () => {
    [owner, member, holder, stranger] = await Promise.all([
      newActor(client, 'bk-owner'),
      newActor(client, 'bk-member'),
      newActor(client, 'bk-holder'),
      newActor(client, 'bk-stranger'),
    ]);
    let base: string;
    ({ tenantId, databaseId, base } = await tenantWithDatabase(owner, COMPLETE_SETTINGS));
    ({ tenantId: strangerTenant } = await tenantWithDatabase(stranger));
    await addMember(owner, tenantId, member, 'member');
    await addMember(owner, tenantId, holder, 'member');
    const role = expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/roles`, {
        name: `backup-operators-${randomUUID().slice(0, 6)}`,
        permissions: { backups: ['read', 'write'] },
      }),
      201,
    );
    roleId = (role.body as { id: string }).id;
    expectStatus(
      await owner.call('PUT', `/tenants/${tenantId}/members/${holder.userId}/roles/${roleId}`),
      200,
    );
    expectStatus(
      await owner.call('POST', `${base}/tables`, {
        name: 'notes',
        columns: [
          { name: 'body', type: 'text' },
          { name: 'amount', type: 'numeric(12,2)' },
        ],
      }),
      201,
    );
    for (let i = 0; i < 25; i++) {
      expectStatus(
        await owner.call('POST', `${base}/tables/notes/rows`, { body: `note ${i}`, amount: `${i}.50` }),
        201,
      );
    }
    expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/modules`, { moduleId: 'billing', databaseId }),
      201,
    );
  });

  it('backs up a tenant table and a module table: the manifest lists every table with rows, bytes and sha256, and the settings, modules and roles', async () => {
    const started = await owner.call('POST', `/tenants/${tenantId}/backups`, {});
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', trigger: 'request', manifest: null });
    first = await finished(owner, tenantId, (started.body as Backup).id);

    expect(first.status, JSON.stringify(first)).toBe('completed');
    const tables = await inTenantDatabase(info, databaseId, async (pg) => {
      const result = await pg.query(
        `select relname as name, (xpath('/row/c/text()', query_to_xml(format('select count(*) as c from public.%I', relname), false, true, '')))[1]::text::int as rows
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind = 'r' order by relname collate "C"`,
      );
      return result.rows as { name: string; rows: number }[];
    });
    const [database] = first.manifest?.databases ?? [];
    expect(first.manifest?.databases).toHaveLength(1);
    expect(database?.databaseId).toBe(databaseId);
    expect(database?.tables.map(({ name, rows }) => ({ name, rows }))).toEqual(tables);
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['notes', 'tenantry_migrations']));
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['customers', 'invoices']));
    expect(database?.tables.find((t) => t.name === 'notes')?.rows).toBe(25);
    for (const table of database?.tables ?? []) {
      expect(table.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(table.bytes).toBeGreaterThanOrEqual(0);
    }
    expect(first.bytes).toBe(database?.tables.reduce((sum, t) => sum + t.bytes, 0));
    const tenant = expectStatus(await owner.call('GET', `/tenants/${tenantId}`), 200).body as {
      settings?: Record<string, unknown>;
    };
    expect(first.manifest?.settings).toEqual(tenant.settings);
    expect(first.manifest?.modules).toContainEqual(
      expect.objectContaining({ moduleId: 'billing', databaseId }),
    );
    expect(first.manifest?.roles).toContainEqual(
      expect.objectContaining({ id: roleId, permissions: expect.arrayContaining(['backups:write']) }),
    );
    expect(first.workflow?.status).toBe('SUCCEEDED');
    expect(first.workflow?.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['PlanBackup', 'BackupDatabase', 'FinishBackup']),
    );
    // The manifest in the state folder (the bucket's stand-in), written last, says the same.
    const stored = decodeManifest(
      await readFile(path.join(info.stateDir, 'backups', tenantId, ...manifestKey(first.id).split('/'))),
    );
    expect(stored.databases[0]?.tables.map((t) => t.sha256)).toEqual(database?.tables.map((t) => t.sha256));
  });

  it('pages the list newest first, without gaps or repeats', async () => {
    for (let i = 0; i < 2; i++) {
      const started = expectStatus(
        await owner.call('POST', `/tenants/${tenantId}/backups`, { databaseIds: [databaseId] }),
        202,
      );
      expect((await finished(owner, tenantId, (started.body as Backup).id)).status).toBe('completed');
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=1&cursor=${encodeURIComponent(cursor)}` : 'limit=1';
      const page = expectStatus(await owner.call('GET', `/tenants/${tenantId}/backups?${query}`), 200)
        .body as {
        items: Backup[];
        nextCursor: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.items.map((b) => b.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(3);
    expect(seen[2]).toBe(first.id);
  });

  it("answers 404 for another tenant's backup id, and for an unknown one", async () => {
    const foreign = await stranger.call('GET', `/tenants/${strangerTenant}/backups/${first.id}`);
    expect(foreign.status).toBe(404);
    const unknown = await stranger.call('GET', `/tenants/${strangerTenant}/backups/b_aaaaaaaaaaaaaaaa`);
    expect({ status: foreign.status, code: errorOf(foreign)?.code }).toEqual({
      status: unknown.status,
      code: errorOf(unknown)?.code,
    });
    expect(JSON.stringify(foreign.body)).not.toContain(tenantId);
    // Nor may the stranger back up the tenant's database into their own tenant.
    const theirs = await stranger.call('POST', `/tenants/${strangerTenant}/backups`, {
      databaseIds: [databaseId],
    });
    expect(theirs.status).toBe(404);
  });

  it('refuses a member without backups:write (403), and lets a custom role with backups:write back up', async () => {
    const denied = await member.call('POST', `/tenants/${tenantId}/backups`, {});
    expect(denied.status).toBe(403);
    expect((await member.call('GET', `/tenants/${tenantId}/backups`)).status).toBe(403);
    expect((await member.call('GET', `/tenants/${tenantId}/backups/${first.id}`)).status).toBe(403);
    const allowed = await holder.call('POST', `/tenants/${tenantId}/backups`, {});
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(202);
    expect((await finished(holder, tenantId, (allowed.body as Backup).id)).status).toBe('completed');
  });

  it('answers 409 backup_running while a backup of the tenant runs, and records nothing', async () => {
    // A running backup, as the repository records one (deterministic: a real one may finish first).
    const running = 'b_runningbackupaaa';
    await withPg(info, 'control', (pg) =>
      pg.query(`insert into backups (id, tenant_id, status, trigger) values ($1, $2, 'running', 'request')`, [
        running,
        strangerTenant,
      ]),
    );
    try {
      const refused = await stranger.call('POST', `/tenants/${strangerTenant}/backups`, {});
      expect(refused.status).toBe(409);
      expect(JSON.stringify(refused.body)).toContain('backup_running');
      const listed = expectStatus(await stranger.call('GET', `/tenants/${strangerTenant}/backups`), 200)
        .body as {
        items: Backup[];
      };
      expect(listed.items.map((b) => b.id)).toEqual([running]);
    } finally {
      await withPg(info, 'control', (pg) => pg.query('delete from backups where id = $1', [running]));
    }
  });

  it('refuses bad input with 400 (unknown fields, bad or duplicate database ids, a bad cursor) and starts nothing', async () => {
    const before = expectStatus(await owner.call('GET', `/tenants/${tenantId}/backups?limit=100`), 200)
      .body as {
      items: Backup[];
    };
    for (const body of [
      { all: true },
      { databaseIds: [] },
      { databaseIds: ['d_nope'] },
      { databaseIds: [databaseId, databaseId] },
      { databaseIds: null },
    ]) {
      const response = await owner.call('POST', `/tenants/${tenantId}/backups`, body);
      expect(response.status, `${JSON.stringify(body)}: ${JSON.stringify(response.body)}`).toBe(400);
    }
    expect((await owner.call('GET', `/tenants/${tenantId}/backups?cursor=bm9wZQ`)).status).toBe(400);
    expect((await owner.call('GET', `/tenants/${tenantId}/backups/not-a-backup`)).status).toBe(400);
    const after = expectStatus(await owner.call('GET', `/tenants/${tenantId}/backups?limit=100`), 200)
      .body as {
      items: Backup[];
    };
    expect(after.items.map((b) => b.id)).toEqual(before.items.map((b) => b.id));
  });
});

class InjectedFailure extends Error {
  override readonly name = 'InjectedFailure';
}

class TransientError extends Error {
  override readonly name = 'TransientError';
}

describe('the backup workflow with injected failures (saga harness)', () => {
  let saga: SagaHarness;
  let tenantId: string;

  beforeAll(async () => {
    saga = await startSagaHarness(inject('platform'));
    const tenant = await registerTenant(
      saga.services,
      { userId: randomUUID(), email: `bk-${randomUUID().slice(0, 8)}@example.com` },
      { name: 'Backed up' },
    );
    tenantId = tenant.id;
    await saga.workflows.waitFor(provisioningExecutionName(tenantId));
    const [database] = await saga.services.databases.ofTenant(tenantId);
    const { sql } = await openTenantDatabase(saga.services, tenantId, database?.id as string);
    await sql.execute('create table notes (id uuid primary key default gen_random_uuid(), body text)');
    await sql.execute(`insert into notes (body) select 'note ' || i from generate_series(1, 50) i`);
  });
  afterAll(async () => {
    await saga?.close();
  });

  async function runBackup() {
    const backup = await startBackup(saga.services, tenantId, {
      databaseIds: null,
      trigger: 'request',
      requestedBy: null,
    });
    const execution = await saga.workflows.waitFor(backupExecutionName(backup.id));
    const record = await saga.services.control.query<{ status: string; reason: string | null }>(
      'select status, reason from backups where id = :id',
      { id: backup.id },
    );
    const objects = await saga.backupStore.list(tenantId, `${backup.id}/`);
    return { backup, execution, record: record[0], objects };
  }

  it('completes with its parts, descriptions and the manifest under the backup prefix', async () => {
    const { execution, record, objects, backup } = await runBackup();
    expect(execution?.status).toBe('SUCCEEDED');
    expect(record?.status).toBe('completed');
    const keys = objects.map((o) => o.key);
    expect(keys).toContain(manifestKey(backup.id));
    expect(keys.some((key) => key.includes('/notes/part-'))).toBe(true);
  });

  const faults: Array<[ProvisioningStep, 'before' | 'after']> = [
    ['PlanBackup', 'before'],
    ['PlanBackup', 'after'],
    ['BackupDatabase', 'before'],
    ['BackupDatabase', 'after'],
    ['FinishBackup', 'before'],
  ];

  it.each(faults)(
    'a failure %s (%s) leaves the backup failed with a reason, no completed backup and no object under its prefix',
    async (step, when) => {
      saga.faults = [{ step, when, error: new InjectedFailure(`injected at ${step}`), times: 1 }];
      const { execution, record, objects } = await runBackup();
      saga.faults = [];
      expect(execution?.status).toBe('FAILED');
      expect(record?.status).toBe('failed');
      expect(record?.reason).toBe('The backup failed (InjectedFailure)');
      expect(objects).toEqual([]);
      expect(execution?.steps.map((s) => s.name)).toContain('FailBackup');
    },
  );

  it('retries a transient failure of a database and completes, with one copy of each object', async () => {
    saga.faults = [{ step: 'BackupDatabase', when: 'after', error: new TransientError('lost'), times: 1 }];
    const { execution, record, objects, backup } = await runBackup();
    saga.faults = [];
    expect(execution?.status).toBe('SUCCEEDED');
    expect(record?.status).toBe('completed');
    const body = await saga.backupStore.get(tenantId, manifestKey(backup.id));
    const manifest = decodeManifest(body as Uint8Array);
    const parts = manifest.databases.flatMap((db) => db.tables.flatMap((t) => t.parts.length));
    // Every object is a part of the manifest, a database description, or the manifest itself.
    expect(objects).toHaveLength(parts.reduce((a, b) => a + b, 0) + manifest.databases.length + 1);
  });
});
