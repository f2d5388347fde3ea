import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FileBackupStore } from '#shared/adapters/file-backup-store';
import { backupDatabase } from '#shared/backups/backup-database';
import {
  type BackupManifest,
  type DatabaseBackup,
  encodeManifest,
  MANIFEST_FORMAT,
  manifestKey,
} from '#shared/backups/manifest';
import { databaseIn, readManifest, restoreDatabase } from '#shared/backups/restore-database';
import { BackupIntegrityError } from '#shared/backups/restore-table';
import { partKey } from '#shared/backups/table-parts';
import { BASELINE_SCHEMA } from '#shared/provisioning/saga';
import { createTempDatabase, type TempDatabase, unknownTenantId, withPg } from '../support/tenancy.ts';

/**
 * restoreDatabase (shared/backups/restore-database.ts) on the local platform, through the Data API
 * stand-in: a database with the baseline schema, tables that refer to each other and module
 * migrations is backed up with backupDatabase, then restored into a new database that has only
 * the baseline. Rows are compared as the superuser reads them, behind the engine's back.
 */

const info = inject('platform');

let stateDir: string;
let store: FileBackupStore;
const tenantId = unknownTenantId();
const made: TempDatabase[] = [];
const baselineDatabase = async (prefix: string) => {
  const db = await createTempDatabase(info, prefix);
  made.push(db);
  await db.runner.transaction(async (tx) => {
    for (const statement of BASELINE_SCHEMA) await tx.execute(statement);
  });
  return db;
};

/** Every table of `public` as the superuser reads it, one text per row in key order. */
const contentOf = (database: string) =>
  withPg(info, database, async (pg) => {
    const tables = (
      await pg.query(
        `select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind = 'r' order by relname collate "C"`,
      )
    ).rows.map((r) => r.relname as string);
    const out: Record<string, string[]> = {};
    for (const table of tables) {
      out[table] = (await pg.query(`select t::text as row from "${table}" t order by 1`)).rows.map(
        (r) => r.row as string,
      );
    }
    return out;
  });

const foreignKeysOf = (database: string) =>
  withPg(info, database, async (pg) =>
    (
      await pg.query(
        `select conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) as fk from pg_constraint
          where contype = 'f' order by 1`,
      )
    ).rows.map((r) => r.fk as string),
  );

let source: TempDatabase;
let backup: DatabaseBackup;
const backupId = 'b_restoretest00001';

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'restore-db-'));
  store = new FileBackupStore(path.join(stateDir, 'backups'));
  source = await baselineDatabase('restore_src');
  await source.runner.execute(`create table customers (
    id uuid primary key default gen_random_uuid(), created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(), name text not null, balance numeric(20,4), tags text[])`);
  // A self-reference and a reference to a table that sorts before it: foreign keys go last.
  await source.runner.execute(`create table "Orders" (
    id uuid primary key default gen_random_uuid(), created_at timestamptz not null default now(),
    customer uuid not null references customers (id), parent uuid references "Orders" (id), doc jsonb)`);
  await source.runner.execute(`create index orders_doc_idx on "Orders" using gin (doc)`);
  await source.runner.execute(`comment on table customers is 'tenantry:module=crm'`);
  await source.runner.execute(
    "insert into tenantry_migrations (module, version, applied_at) values ('crm', 1, '2025-01-01T00:00:00Z'), ('crm', 2, '2025-06-01T12:00:00.123456Z')",
  );
  await withPg(info, source.name, async (pg) => {
    await pg.query(`insert into customers (name, balance, tags, created_at)
      select 'customer ' || i, i * 1.2345, array['t' || i, null], '2024-01-01T00:00:00Z'::timestamptz + i * interval '1 second'
        from generate_series(1, 2500) i`);
    await pg.query(`insert into "Orders" (customer, doc)
      select id, jsonb_build_object('n', row_number() over ()) from customers`);
    await pg.query(`update "Orders" o set parent = (select id from "Orders" order by id limit 1)
      where o.id <> (select id from "Orders" order by id limit 1)`);
  });
  backup = await backupDatabase(source.runner, {
    store,
    tenantId,
    backupId,
    databaseId: 'd_source',
    label: 'main',
  });
  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    backupId,
    tenantId,
    startedAt: new Date().toISOString(),
    completedAt: new Date().toISOString(),
    databases: [backup],
    settings: {},
    modules: [],
    roles: [],
  };
  await store.put(tenantId, manifestKey(backupId), encodeManifest(manifest));
});

afterAll(async () => {
  for (const db of made) await db.drop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('restoreDatabase', () => {
  it('restores every table, its rows, indexes, comments and foreign keys, and merges tenantry_migrations', async () => {
    // Arrange
    const target = await baselineDatabase('restore_dst');
    const manifest = await readManifest({ store, tenantId }, backupId);
    const entry = manifest ? databaseIn(manifest, 'd_source') : null;
    expect(entry?.tables.map((t) => t.name)).toEqual(['Orders', 'customers', 'tenantry_migrations']);

    // Act
    const restored = await restoreDatabase(
      target.runner,
      { store, tenantId, backupId },
      entry as DatabaseBackup,
    );

    // Assert: identical content (ids, timestamps, the baseline row's applied_at too), and structure.
    expect(restored.map((t) => [t.name, t.outcome, t.rows])).toEqual([
      ['Orders', 'loaded', 2500],
      ['customers', 'loaded', 2500],
      ['tenantry_migrations', 'merged', 3],
    ]);
    expect(await contentOf(target.name)).toEqual(await contentOf(source.name));
    expect(await foreignKeysOf(target.name)).toEqual(await foreignKeysOf(source.name));
    const indexes = await withPg(
      info,
      target.name,
      async (pg) =>
        (await pg.query(`select indexname from pg_indexes where tablename = 'Orders' order by 1`)).rows,
    );
    expect(indexes.map((r) => r.indexname)).toEqual(['Orders_pkey', 'orders_doc_idx']);
    const comment = await withPg(
      info,
      target.name,
      async (pg) =>
        (await pg.query(`select obj_description('customers'::regclass, 'pg_class') as c`)).rows[0]?.c,
    );
    expect(comment).toBe('tenantry:module=crm');
  });

  it('runs again without loading twice: restored tables are verified and skipped', async () => {
    // Arrange
    const target = await baselineDatabase('restore_rerun');
    await restoreDatabase(target.runner, { store, tenantId, backupId }, backup);

    // Act
    const again = await restoreDatabase(target.runner, { store, tenantId, backupId }, backup);

    // Assert
    expect(again.map((t) => t.outcome)).toEqual(['verified', 'verified', 'merged']);
    expect(await contentOf(target.name)).toEqual(await contentOf(source.name));
  });

  it('fails on a table changed since it was restored, and changes nothing', async () => {
    // Arrange
    const target = await baselineDatabase('restore_changed');
    await restoreDatabase(target.runner, { store, tenantId, backupId }, backup);
    await withPg(info, target.name, (pg) =>
      pg.query(`update customers set name = 'changed' where name = 'customer 7'`),
    );
    const before = await contentOf(target.name);

    // Act / Assert
    await expect(restoreDatabase(target.runner, { store, tenantId, backupId }, backup)).rejects.toThrow(
      BackupIntegrityError,
    );
    expect(await contentOf(target.name)).toEqual(before);
  });

  it('a missing part fails the restore, naming the table; that table is not left half-loaded', async () => {
    // Arrange: a copy of the backup whose `customers` part is gone.
    const brokenId = 'b_restoretest00002';
    const copy = await backupDatabase(source.runner, {
      store,
      tenantId,
      backupId: brokenId,
      databaseId: 'd_source',
      label: 'main',
    });
    const customers = copy.tables.find((t) => t.name === 'customers');
    await store.delete(tenantId, [
      partKey(`${brokenId}/d_source`, 'customers', customers?.parts[0]?.index ?? 1),
    ]);
    const target = await baselineDatabase('restore_missing');

    // Act
    const failure = await restoreDatabase(target.runner, { store, tenantId, backupId: brokenId }, copy).catch(
      (error: unknown) => error,
    );

    // Assert: `Orders` (before it) was loaded, `customers` is not there, the migrations untouched.
    expect(failure).toBeInstanceOf(BackupIntegrityError);
    expect((failure as Error).message).toContain('"customers"');
    const content = await contentOf(target.name);
    expect(Object.keys(content)).toEqual(['Orders', 'tenantry_migrations']);
    expect(content.tenantry_migrations).toHaveLength(1);
  });

  it('answers null for a backup without a manifest, and for a database the manifest does not hold', async () => {
    expect(await readManifest({ store, tenantId }, 'b_restoretest00003')).toBeNull();
    const manifest = await readManifest({ store, tenantId }, backupId);
    expect(manifest && databaseIn(manifest, 'd_other')).toBeNull();
  });
});
