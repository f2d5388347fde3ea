import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cloneView } from '#shared/backups/clone-view';
import type { DatabaseBackup, TableBackup } from '#shared/backups/manifest';
import { NdjsonParts } from '#shared/backups/ndjson-parts';
import type { TableDdl } from '#shared/backups/table-ddl';
import type { ClonePart } from '#shared/tenancy/clone';

const table = (name: string, comment: string | null, rows: number): TableBackup => ({
  name,
  rows,
  bytes: rows * 10,
  sha256: `sha-of-${name}`,
  parts:
    rows > 0 ? [{ index: 1, rows, bytes: rows * 10, compressedBytes: rows, sha256: `sha-of-${name}` }] : [],
  ddl: { name, comment } as unknown as TableDdl,
});

const database: DatabaseBackup = {
  databaseId: 'd_aaaaaaaaaaaaaaaa',
  label: 'main',
  tables: [
    table('customers', null, 3),
    table('crm_contacts', "comment on table crm_contacts is 'tenantry:module=crm'", 2),
    table('notes', "comment on table notes is 'just a note'", 1),
    table('tenantry_migrations', null, 2),
  ],
};

const view = (...parts: ClonePart[]) => cloneView(database, new Set(parts));
const names = (db: DatabaseBackup) => db.tables.map((t) => t.name);
const EMPTY = createHash('sha256').digest('hex');

describe('what a clone restores of a backed-up database', () => {
  it('with data and modules: every table, rows and all, as backed up', () => {
    expect(view('data', 'modules')).toEqual(database);
  });

  it('without modules: no module table and no migrations table; other tables keep their rows', () => {
    const db = view('data');
    expect(names(db)).toEqual(['customers', 'notes']);
    expect(db.tables.find((t) => t.name === 'customers')).toEqual(database.tables[0]);
  });

  it('without data: the tables come empty (no parts, no rows, the empty hash), module versions kept', () => {
    const db = view('modules');
    expect(names(db)).toEqual(['customers', 'crm_contacts', 'notes', 'tenantry_migrations']);
    for (const t of db.tables.filter((t) => t.name !== 'tenantry_migrations')) {
      expect(t).toMatchObject({ rows: 0, bytes: 0, sha256: EMPTY, parts: [] });
    }
    expect(db.tables.find((t) => t.name === 'tenantry_migrations')).toEqual(database.tables[3]);
  });

  it('with neither: the tenant tables alone, empty', () => {
    const db = view('settings', 'roles');
    expect(names(db)).toEqual(['customers', 'notes']);
    expect(db.tables.every((t) => t.rows === 0 && t.parts.length === 0)).toBe(true);
  });

  it('an emptied table hashes as the engine hashes an empty table (so its verification passes)', async () => {
    const empty = await new NdjsonParts('customers', async () => {}).finish();
    expect(view('roles').tables[0]).toMatchObject({ rows: empty.rows, sha256: empty.sha256 });
  });
});
