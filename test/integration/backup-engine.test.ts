import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { FileBackupStore } from '#shared/adapters/file-backup-store';
import { CHUNK_CHARS, DUMP_LIMITS, dumpTable } from '#shared/backups/dump-table';
import { readPart, type TableSummary } from '#shared/backups/ndjson-parts';
import { addForeignKeys, BackupIntegrityError, restoreTable } from '#shared/backups/restore-table';
import { type TableDdl, TableNotBackedUp, tableDdl } from '#shared/backups/table-ddl';
import { fetchPart, partKey, storeParts, type TableParts } from '#shared/backups/table-parts';
import { billing, tablesAt } from '#shared/modules/catalog';
import type { SqlParams, SqlRow, SqlRunner } from '#shared/ports/sql';
import { newActor } from '../support/actors.ts';
import {
  type ClosableRunner,
  createTempDatabase,
  dataApiRunner,
  expectStatus,
  type TempDatabase,
  unknownTenantId,
  withPg,
} from '../support/tenancy.ts';
import { COMPLETE_SETTINGS, databaseNameOf, tenantWithDatabase } from '../support/tenant-data.ts';
import { tenantSecretOf } from '../support/tenant-secrets.ts';

/**
 * The backup engine (shared/backups/) on the local platform: every statement it runs goes through
 * the Data API adapter and the Data API stand-in, with its limits (1 MiB responses, 64 KB rows,
 * 4 MiB requests). Tables are dumped to the file backup store and restored into a new database;
 * rows are compared as the superuser sees them (`select t::text … order by` the key), behind the
 * engine's back.
 */

const info = inject('platform');

interface Call {
  readonly sql: string;
  /** The rows as JSON: a lower bound of the Data API response's size. */
  readonly bytes: number;
  /** A dump page's `:rows`: how many rows PostgreSQL reads and renders for it. */
  readonly asked?: number;
}

/** The runner, recording every query it runs (in transactions too). */
function recorded(runner: SqlRunner, calls: Call[]): SqlRunner {
  return {
    async query<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
      const rows = await runner.query<T>(sql, params);
      const asked = typeof params?.rows === 'number' ? params.rows : undefined;
      calls.push({ sql, bytes: Buffer.byteLength(JSON.stringify(rows)), asked });
      return rows;
    },
    execute: (sql, params) => runner.execute(sql, params),
    transaction: (work) => runner.transaction((tx) => work(recorded(tx, calls))),
  };
}

/** The table as the superuser reads it: one text per row, in key order. */
const rowsAsText = (database: string, quotedTable: string, orderBy: string) =>
  withPg(info, database, async (pg) =>
    (await pg.query(`select t::text as row from ${quotedTable} t order by ${orderBy}`)).rows.map(
      (r) => r.row as string,
    ),
  );

let stateDir: string;
let store: FileBackupStore;
const tenantId = unknownTenantId();
const databases: TempDatabase[] = [];
const newDatabase = async (prefix: string) => {
  const db = await createTempDatabase(info, prefix);
  databases.push(db);
  return db;
};

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'backup-engine-'));
  store = new FileBackupStore(path.join(stateDir, 'backups'));
});

afterAll(async () => {
  for (const db of databases) await db.drop();
  await rm(stateDir, { recursive: true, force: true });
});

/** The NDJSON lines of a stored dump, part by part. */
async function readLines(dump: TableSummary, at: TableParts, table: string): Promise<string[]> {
  const lines: string[] = [];
  for (const part of dump.parts)
    lines.push(...(await readPart((await fetchPart(at, table, part)) as Uint8Array, part)));
  return lines;
}

/** Dumps `table` of `sql` to the store under `prefix`, with its DDL. */
async function backUp(sql: SqlRunner, table: string, prefix: string, limits = {}) {
  const ddl = await tableDdl(sql, table);
  if (!ddl) throw new Error(`no table ${table}`);
  const at: TableParts = { store, tenantId, prefix };
  const dump = await dumpTable(sql, ddl, storeParts(at, table), { limits });
  return { ddl, dump, at };
}

const EVERY_TYPE = `
create table every_type (
  id uuid primary key default gen_random_uuid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  amount numeric(60,20) check (amount is null or amount <> 0),
  plain numeric,
  at timestamptz,
  on_day date,
  ref uuid unique,
  doc jsonb default '{}'::jsonb,
  raw_doc json,
  note text collate "C",
  small integer,
  big bigint not null default 0,
  flag boolean,
  tags text[],
  counts integer[],
  blob bytea,
  constraint every_type_day_known check (on_day is null or on_day >= '0001-01-01')
)`;

/* Values at the edges of each type, as SQL literals (inserted by the superuser). */
const EVERY_TYPE_ROWS = [
  `('00000000-0000-4000-8000-000000000001', '2024-02-29 23:59:59.123456+05:30', '2024-03-01 00:00:00.000001+00',
    1234567890123456789012345678901234567890.12345678901234567890,
    -0.000000000000000000000000000000000000001234567890123456789012345678901234567890,
    '1999-12-31 23:59:59.999999-08', '2024-02-29', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '{"b": 1, "a": [1, 2.50, {"z": null}], "a": "dup", "big": 123456789012345678901234567890.000}',
    '{"b":  1, "a": 2,  "a": 3, "n": 1.0e3}',
    E'unicode é 😀 \\u200f עברית, "quotes" \\\\ back\\nnew line\\ttab \\u0001 ctrl',
    -2147483648, -9223372036854775808, true,
    ARRAY['a', NULL, '', 'NULL', 'with "quote"', 'comma,brace{}', '😀'], ARRAY[1, NULL, -2147483648],
    '\\x00ff10'::bytea)`,
  `('00000000-0000-4000-8000-000000000002', '0001-01-01 00:00:00+00', 'infinity',
    -99999999999999999999999999999999999999.99999999999999999999, 'NaN',
    '-infinity', '0001-01-01', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'null', 'null', '', 2147483647, 9223372036854775807, false,
    '{}', '{}', '\\x'::bytea)`,
  `('00000000-0000-4000-8000-000000000003', '2026-12-03 10:00:00+00', '2026-12-03 10:00:00+00',
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL)`,
  // Near the API's row cap, all quotes: its JSON doubles when the Data API escapes it again, so it
  // passes 64 KB unless the dump sends it in chunks.
  `('00000000-0000-4000-8000-000000000004', now(), now(), 1, 1, now(), 'infinity', NULL,
    '["x"]', '"x"', repeat('"', 28000), 0, 0, NULL, ARRAY[repeat('\\', 1000)], NULL, NULL)`,
];

describe('backup engine: round trip', () => {
  let source: TempDatabase;

  beforeAll(async () => {
    source = await newDatabase('backup_src');
    await source.runner.execute(EVERY_TYPE);
    await source.runner.execute('create index every_type_note_idx on every_type (note)');
    await source.runner.execute('create index every_type_doc_idx on every_type using gin (doc)');
    await source.runner.execute(`comment on table every_type is 'tenantry:module=billing'`);
    await withPg(info, source.name, async (pg) => {
      for (const row of EVERY_TYPE_ROWS) await pg.query(`insert into every_type values ${row}`);
    });
  });

  it('reads the DDL from the catalog: exact types, defaults, not null, constraints, indexes, comment', async () => {
    const ddl = (await tableDdl(source.runner, 'every_type')) as TableDdl;
    // Names are quoted by PostgreSQL where they need it (format('%I')): these do not.
    expect(ddl.create).toContain('amount numeric(60,20),');
    expect(ddl.create).toContain('note text collate "C",');
    expect(ddl.create).toContain('created_at timestamp with time zone not null default now(),');
    expect(ddl.create).toContain("doc jsonb default '{}'::jsonb,");
    expect(ddl.create).toContain('constraint every_type_amount_check CHECK');
    expect(ddl.create).toContain('constraint every_type_pkey PRIMARY KEY (id)');
    expect(ddl.create).toContain('constraint every_type_ref_key UNIQUE (ref)');
    expect(ddl.create).toContain('constraint every_type_day_known CHECK');
    expect(ddl.indexes).toEqual([
      'CREATE INDEX every_type_doc_idx ON public.every_type USING gin (doc)',
      'CREATE INDEX every_type_note_idx ON public.every_type USING btree (note)',
    ]);
    expect(ddl.comment).toBe(`comment on table every_type is 'tenantry:module=billing'`);
    expect(ddl.primaryKey).toEqual(['id']);
    await expect(tableDdl(source.runner, 'no_such_table')).resolves.toBeNull();
  });

  it('dumps and restores every column type into a new database, rows identical, DDL identical', async () => {
    // Arrange
    const target = await newDatabase('backup_dst');
    const calls: Call[] = [];

    // Act
    const { ddl, dump, at } = await backUp(recorded(source.runner, calls), 'every_type', 'b1/src');
    const restored = await restoreTable(target.runner, ddl, dump, at);

    // Assert: the same rows, as the superuser reads them, and the same description.
    expect(dump).toMatchObject({ name: 'every_type', rows: EVERY_TYPE_ROWS.length });
    expect(restored).toMatchObject({ rows: dump.rows, bytes: dump.bytes, sha256: dump.sha256 });
    const before = await rowsAsText(source.name, 'every_type', 'id');
    expect(await rowsAsText(target.name, 'every_type', 'id')).toEqual(before);
    expect(await tableDdl(target.runner, 'every_type')).toEqual(ddl);
    // What PostgreSQL kept, compared value by value: jsonb keeps the last duplicate key, json the text.
    const values = await withPg(
      info,
      target.name,
      async (pg) =>
        (
          await pg.query(
            `select amount::text, plain::text, doc::text, raw_doc::text, doc is null as doc_null,
                  doc = 'null'::jsonb as doc_json_null, note, tags, counts, encode(blob, 'hex') as blob,
                  extract(microseconds from created_at)::int % 1000000 as micros
             from every_type order by id`,
          )
        ).rows,
    );
    expect(values[0]).toMatchObject({
      amount: '1234567890123456789012345678901234567890.12345678901234567890',
      plain: '-0.000000000000000000000000000000000000001234567890123456789012345678901234567890',
      doc: '{"a": "dup", "b": 1, "big": 123456789012345678901234567890.000}',
      raw_doc: '{"b":  1, "a": 2,  "a": 3, "n": 1.0e3}',
      tags: ['a', null, '', 'NULL', 'with "quote"', 'comma,brace{}', '😀'],
      counts: [1, null, -2147483648],
      blob: '00ff10',
      micros: 123_456,
    });
    expect(values[1]).toMatchObject({ plain: 'NaN', doc_null: false, doc_json_null: true, raw_doc: 'null' });
    expect(values[2]).toMatchObject({ doc_null: true, raw_doc: null, note: null, tags: null, blob: null });
    expect(values[3]?.note).toBe('"'.repeat(28_000));
    // The large row came in chunks, and no page was near the Data API's 1 MiB.
    const pages = calls.filter((c) => c.sql.includes('row_to_json'));
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) expect(page.bytes).toBeLessThan(1024 * 1024);
    expect(28_000 * 2).toBeGreaterThan(CHUNK_CHARS);
  });

  it('restores a table with no rows: the table, no part, verified', async () => {
    await source.runner.execute('create table empty_one (id uuid primary key, label text not null)');
    const target = await newDatabase('backup_dst');
    const { ddl, dump, at } = await backUp(source.runner, 'empty_one', 'b1/src');
    expect(dump).toMatchObject({ rows: 0, bytes: 0, parts: [] });
    expect(await store.list(tenantId, 'b1/src/empty_one/')).toEqual([]);
    await expect(restoreTable(target.runner, ddl, dump, at)).resolves.toMatchObject({ rows: 0 });
    expect(await rowsAsText(target.name, 'empty_one', 'id')).toEqual([]);
  });

  it('backs up a table whose name needs quoting, with a composite key beyond 2^53, page by page', async () => {
    // Arrange: 25 rows, pages of 4; keys past 2^53 must not be rounded between pages.
    const name = 'Ledger "Q1" / 2024.x';
    const quotedName = '"Ledger ""Q1"" / 2024.x"';
    await source.runner.execute(
      `create table ${quotedName} ("Region" text, seq bigint, "select" text, primary key ("Region", seq))`,
    );
    await withPg(info, source.name, (pg) =>
      pg.query(
        `insert into ${quotedName} select case when g % 2 = 0 then 'Nörd' else 'süd' end, 9007199254740990 + g, 'v' || g
           from generate_series(1, 25) g`,
      ),
    );
    const target = await newDatabase('backup_dst');
    const calls: Call[] = [];

    // Act
    const { ddl, dump, at } = await backUp(recorded(source.runner, calls), name, 'b1/src', { pageRows: 4 });
    await restoreTable(target.runner, ddl, dump, at);

    // Assert
    expect(ddl.quotedName).toBe(quotedName);
    expect(dump.rows).toBe(25);
    expect(calls.filter((c) => c.sql.includes('row_to_json')).length).toBe(7);
    expect(await rowsAsText(target.name, quotedName, '"Region", seq')).toEqual(
      await rowsAsText(source.name, quotedName, '"Region", seq'),
    );
    const keys = await store.list(tenantId, 'b1/src/');
    expect(keys.map((k) => k.key)).toContain(partKey('b1/src', name, 1));
  });

  it('refuses what it cannot restore identically: an identity column, a table without a primary key', async () => {
    await source.runner.execute(
      'create table with_identity (id bigint generated always as identity primary key)',
    );
    await source.runner.execute('create table without_key (a text)');
    await expect(tableDdl(source.runner, 'with_identity')).rejects.toThrow(TableNotBackedUp);
    await expect(tableDdl(source.runner, 'without_key')).rejects.toThrow('no primary key');
  });
});

describe('backup engine: integrity', () => {
  let source: TempDatabase;
  let backup: Awaited<ReturnType<typeof backUp>>;

  beforeAll(async () => {
    source = await newDatabase('backup_src');
    await source.runner.execute(
      'create table notes (id uuid primary key default gen_random_uuid(), body text)',
    );
    await withPg(info, source.name, (pg) =>
      pg.query(`insert into notes (body) select 'note ' || g from generate_series(1, 3000) g`),
    );
    backup = await backUp(source.runner, 'notes', 'b2/src', { partBytes: 32 * 1024 });
    expect(backup.dump.parts.length).toBeGreaterThan(2);
  });

  const expectNoTable = async (db: TempDatabase) =>
    withPg(info, db.name, async (pg) =>
      expect((await pg.query(`select to_regclass('public.notes') as t`)).rows[0].t).toBeNull(),
    );

  it('detects a corrupted part (another valid stream too), names the table and leaves no table behind', async () => {
    // Arrange: part 2 replaced by part 1's bytes: a valid gzip stream, the wrong rows.
    const { ddl, dump, at } = backup;
    const second = partKey(at.prefix, 'notes', 2);
    const original = (await store.get(tenantId, second)) as Uint8Array;
    await store.put(
      tenantId,
      second,
      (await store.get(tenantId, partKey(at.prefix, 'notes', 1))) as Uint8Array,
    );
    const target = await newDatabase('backup_dst');

    // Act / Assert
    const failure = restoreTable(target.runner, ddl, dump, at);
    await expect(failure).rejects.toThrow(BackupIntegrityError);
    await expect(failure).rejects.toThrow('table "notes": part 2');
    await expectNoTable(target);

    // Flipped bytes
    const flipped = Buffer.from(original);
    flipped[flipped.length - 10] = (flipped[flipped.length - 10] ?? 0) ^ 0xff;
    await store.put(tenantId, second, flipped);
    await expect(restoreTable(target.runner, ddl, dump, at)).rejects.toThrow(BackupIntegrityError);
    // Missing
    await store.delete(tenantId, [second]);
    await expect(restoreTable(target.runner, ddl, dump, at)).rejects.toThrow('missing');
    await expectNoTable(target);
    await store.put(tenantId, second, original);
    await expect(restoreTable(target.runner, ddl, dump, at)).resolves.toMatchObject({ rows: 3000 });
  });

  it('detects restored rows that do not hash to the backup (a manifest that does not match its parts)', async () => {
    const { ddl, dump, at } = backup;
    const target = await newDatabase('backup_dst');
    const wrong: TableSummary = { ...dump, sha256: '0'.repeat(64) };
    await expect(restoreTable(target.runner, ddl, wrong, at)).rejects.toThrow(
      /table "notes": restored 3000 rows .* the backup has 3000/,
    );
    await expectNoTable(target);
  });
});

describe('backup engine: consistency', () => {
  it('reads every page of a dump in one snapshot: rows written meanwhile are not in it', async () => {
    // Arrange: keys 1…10, pages of 3; after the first page, another session adds key 11 and
    // deletes key 9, both in the part not read yet.
    const source = await newDatabase('backup_src');
    await source.runner.execute('create table counters (id bigint primary key, v text)');
    await withPg(info, source.name, (pg) =>
      pg.query(`insert into counters select g, 'v' || g from generate_series(1, 10) g`),
    );
    let pages = 0;
    const afterFirstPage = (tx: SqlRunner): SqlRunner => ({
      async query<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
        const rows = await tx.query<T>(sql, params);
        if (sql.includes('row_to_json') && ++pages === 1) {
          await withPg(info, source.name, (pg) =>
            pg.query(`insert into counters values (11, 'late'); delete from counters where id = 9`),
          );
        }
        return rows;
      },
      execute: (sql, params) => tx.execute(sql, params),
      transaction: (work) => tx.transaction((inner) => work(afterFirstPage(inner))),
    });
    const meddling = afterFirstPage(source.runner);

    // Act
    const { dump } = await backUp(meddling, 'counters', 'b5/src', { pageRows: 3 });

    // Assert: the ten rows as they were when the dump began.
    expect(pages).toBeGreaterThan(1);
    expect(dump.rows).toBe(10);
    const target = await newDatabase('backup_dst');
    const ddl = (await tableDdl(source.runner, 'counters')) as TableDdl;
    await restoreTable(target.runner, ddl, dump, { store, tenantId, prefix: 'b5/src' });
    const ids = await withPg(info, target.name, async (pg) =>
      (await pg.query('select id from counters order by id')).rows.map((r) => Number(r.id)),
    );
    expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("hashes the same whatever the databases' own time zone: the rendering is pinned per transaction", async () => {
    // Arrange: a source rendering timestamps in +05:30, a target in New York, as their defaults.
    const source = await newDatabase('backup_src');
    const target = await newDatabase('backup_dst');
    await withPg(info, 'postgres', async (pg) => {
      await pg.query(`alter database ${source.name} set timezone = 'Asia/Kolkata'`);
      await pg.query(`alter database ${target.name} set timezone = 'America/New_York'`);
      await pg.query(`alter database ${target.name} set bytea_output = 'escape'`);
    });
    await source.runner.execute('create table stamps (id int primary key, at timestamptz, raw bytea)');
    await withPg(info, source.name, (pg) =>
      pg.query(`insert into stamps values (1, '2024-06-01 12:00:00.000001+00', '\\xdeadbeef')`),
    );

    // Act
    const { ddl, dump, at } = await backUp(source.runner, 'stamps', 'b6/src');
    const restored = await restoreTable(target.runner, ddl, dump, at);

    // Assert
    expect(restored.sha256).toBe(dump.sha256);
    const [line] = await readLines(dump, at, 'stamps');
    expect(line).toBe('{"id":1,"at":"2024-06-01T12:00:00.000001+00:00","raw":"\\\\xdeadbeef"}');
  });
});

describe('backup engine: paging', () => {
  it('dumps 20 000 rows in several Data API calls, none over the limit, and restores them (throughput logged)', async () => {
    // Arrange: rows of ~300 bytes of JSON.
    const source = await newDatabase('backup_src');
    await source.runner.execute(
      `create table events (id uuid primary key default gen_random_uuid(), created_at timestamptz not null default now(),
                            kind text not null, amount numeric(12,2), payload jsonb)`,
    );
    await withPg(info, source.name, (pg) =>
      pg.query(
        `insert into events (kind, amount, payload)
         select 'kind-' || (g % 7), g / 100.0, jsonb_build_object('n', g, 'label', repeat('x', 150))
           from generate_series(1, 20000) g`,
      ),
    );
    const target = await newDatabase('backup_dst');
    const calls: Call[] = [];

    // Act
    const dumpStart = performance.now();
    const { ddl, dump, at } = await backUp(recorded(source.runner, calls), 'events', 'b3/src');
    const dumpMs = performance.now() - dumpStart;
    const restoreStart = performance.now();
    await restoreTable(target.runner, ddl, dump, at);
    const restoreMs = performance.now() - restoreStart;

    // Assert
    const pages = calls.filter((c) => c.sql.includes('row_to_json'));
    expect(dump.rows).toBe(20_000);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil((20_000 * 300) / DUMP_LIMITS.pageBytes));
    for (const page of pages) expect(page.bytes).toBeLessThan(1024 * 1024);
    expect(Math.max(...pages.map((p) => p.bytes))).toBeGreaterThan(DUMP_LIMITS.pageBytes / 2);
    expect(await rowsAsText(target.name, 'events', 'id')).toEqual(
      await rowsAsText(source.name, 'events', 'id'),
    );
    console.info(
      `backup-engine throughput: dump ${Math.round(20_000 / (dumpMs / 1000))} rows/s ` +
        `(${(dump.bytes / 1024 / 1024 / (dumpMs / 1000)).toFixed(1)} MB/s, ${pages.length} pages, ` +
        `${dump.parts.length} parts, ${dump.bytes} bytes → ${dump.parts.reduce((n, p) => n + p.compressedBytes, 0)} gzip); ` +
        `restore+verify ${Math.round(20_000 / (restoreMs / 1000))} rows/s`,
    );
  });

  it('dumps wide rows without rendering many it drops: after a page the byte budget cut, the next asks for about what fitted', async () => {
    // Arrange: 4 000 rows of ~3.3 KB of JSON: about 90 fit a page's 300 000 bytes.
    const source = await newDatabase('backup_src');
    await source.runner.execute(
      'create table wide (id uuid primary key default gen_random_uuid(), body text not null)',
    );
    await withPg(info, source.name, (pg) =>
      pg.query(`insert into wide (body) select repeat(md5(g::text), 100) from generate_series(1, 4000) g`),
    );
    const target = await newDatabase('backup_dst');
    const calls: Call[] = [];

    // Act
    const { ddl, dump, at } = await backUp(recorded(source.runner, calls), 'wide', 'b7/src');
    await restoreTable(target.runner, ddl, dump, at);

    // Assert: every row, in pages near the budget, and few rows read only to be dropped: asking
    // for 1 000 rows every page, PostgreSQL rendered eleven times the rows kept.
    const pages = calls.filter((c) => c.sql.includes('row_to_json'));
    expect(dump.rows).toBe(4_000);
    const asked = pages.reduce((sum, page) => sum + (page.asked ?? 0), 0);
    expect(asked).toBeLessThan(1.5 * 4_000);
    expect(pages.length).toBeLessThan(((4_000 * 3_300) / DUMP_LIMITS.pageBytes) * 1.3);
    for (const page of pages) expect(page.bytes).toBeLessThan(1024 * 1024);
    expect(await rowsAsText(target.name, 'wide', 'id')).toEqual(await rowsAsText(source.name, 'wide', 'id'));
  });
});

describe('backup engine: a tenant database, as the tenant role', () => {
  it("backs up a tenant's own and module tables with the tenant's credentials and restores them with their foreign keys", async () => {
    // Arrange: a tenant with billing enabled, a table of its own, rows written through the API.
    const client = new LocalClient(info);
    const owner = await newActor(client, 'backup-owner');
    const { tenantId: ownerTenant, databaseId, base } = await tenantWithDatabase(owner, COMPLETE_SETTINGS);
    expectStatus(
      await owner.call('POST', `/tenants/${ownerTenant}/modules`, { moduleId: 'billing', databaseId }),
      201,
    );
    expectStatus(
      await owner.call('POST', `${base}/tables`, {
        name: 'orders',
        columns: [
          { name: 'reference', type: 'text', nullable: false, unique: true },
          { name: 'amount', type: 'numeric(12,2)', default: '0.00' },
          { name: 'placed_at', type: 'timestamptz', default: 'now' },
          { name: 'meta', type: 'jsonb' },
        ],
      }),
      201,
    );
    const customer = expectStatus(
      await owner.call('POST', `${base}/tables/customers/rows`, { name: 'Ada', address: { city: 'Lyon' } }),
      201,
    ).body as { id: string };
    expectStatus(
      await owner.call('POST', `${base}/tables/invoices/rows`, {
        customer_id: customer.id,
        number: 'F-1',
        total: '12.50',
      }),
      201,
    );
    expectStatus(
      await owner.call('POST', `${base}/tables/orders/rows`, { reference: 'A-1', meta: { a: [1] } }),
      201,
    );
    const database = await databaseNameOf(info, databaseId);
    const secret = await tenantSecretOf(info, ownerTenant);
    if (!secret) throw new Error('the tenant has no secret');
    const asTenant: ClosableRunner = dataApiRunner(info, database, secret.arn);
    const target = await newDatabase('backup_dst');
    const tables = [...tablesAt(billing).map((t) => t.name), 'orders'];

    try {
      // Act: every table dumped as the tenant, then restored and its foreign keys added.
      const backups = [];
      for (const table of tables) backups.push(await backUp(asTenant.runner, table, `b4/${databaseId}`));
      for (const { ddl, dump, at } of backups) await restoreTable(target.runner, ddl, dump, at);
      await addForeignKeys(
        target.runner,
        backups.map((b) => b.ddl),
      );

      // Assert
      for (const { ddl } of backups) {
        expect(await tableDdl(target.runner, ddl.name)).toEqual(ddl);
        expect(await rowsAsText(target.name, ddl.quotedName, 'id')).toEqual(
          await rowsAsText(database, ddl.quotedName, 'id'),
        );
      }
      const invoices = backups.find((b) => b.ddl.name === 'invoices')?.ddl;
      expect(invoices?.foreignKeys).toEqual([
        'alter table invoices add constraint invoices_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE RESTRICT',
      ]);
      expect(invoices?.comment).toBe(`comment on table invoices is 'tenantry:module=billing'`);
      const fks = await withPg(info, target.name, async (pg) =>
        Number(
          (await pg.query(`select count(*)::int as n from pg_constraint where contype = 'f'`)).rows[0].n,
        ),
      );
      expect(fks).toBe(2);
    } finally {
      asTenant.close();
      client.close();
    }
  });
});
