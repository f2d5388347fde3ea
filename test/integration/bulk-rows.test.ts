import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { MAX_BATCH_BYTES, MAX_BATCH_ROWS } from '#shared/data/row-batch';
import { MAX_ROW_BYTES } from '#shared/data/row-size';
import { parseCsv } from '#shared/exports/csv';
import { type Actor, addMember, eventually, newActor } from '../support/actors.ts';
import { errorOf, expectStatus } from '../support/tenancy.ts';
import { inTenantDatabase, rowCount, sendText, tenantWithDatabase } from '../support/tenant-data.ts';

/**
 * Many rows at once on the local platform: a batch is all or nothing (a bad row, a limit, a
 * constraint in row k: nothing written, the row named), its audit record counts the rows, and a
 * table exported as CSV or NDJSON and imported again gives the same rows, formulas neutralised.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

type Row = Record<string, unknown>;
type Batch = { inserted: number; items?: Row[]; ids?: string[] };
type Detail = { path: string; code: string; row?: number; line?: number };
const details = (response: { body: unknown }) => (errorOf(response as never)?.details ?? []) as Detail[];
const SYSTEM = ['id', 'created_at', 'updated_at'];
const withoutSystem = (row: Row) =>
  Object.fromEntries(Object.entries(row).filter(([k]) => !SYSTEM.includes(k)));

const COLUMNS = [
  { name: 'seq', type: 'integer', nullable: false, unique: true },
  { name: 'title', type: 'text' },
  { name: 'qty', type: 'integer', default: 7 },
  { name: 'big', type: 'bigint' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'flag', type: 'boolean' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'timestamptz' },
  { name: 'ref', type: 'uuid' },
  { name: 'doc', type: 'jsonb' },
];

/** Text a spreadsheet would run as a formula, or that an import could misread. */
const FORMULAS = ['=HYPERLINK("http://evil.example")', '+1', '-2', '@SUM(A1)', '\tTab', '\rCR'];
const TITLES = [
  ...FORMULAS,
  "'=already quoted",
  "''+two quotes",
  "'plain apostrophe",
  '',
  'a,b',
  'say "hi"',
  'two\nlines',
  'crlf\r\nline',
  'é ünïcode 😀',
  null,
  '  spaced  ',
  '""',
];
const DOCS = [{ a: [1, 'x', null] }, 'a string', -5, [], {}, true, 0, null, { q: '"quoted", comma' }];

/** Rows covering every type and its edges, cycling through the values above. */
function everyTypeRows(count: number, from = 0): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    seq: from + i,
    title: TITLES[i % TITLES.length],
    qty: [-2147483648, 2147483647, 0, null][i % 4],
    big: ['9223372036854775807', '-9223372036854775808', '0', null][i % 4],
    amount: ['-12.50', '9999999999.99', '0.00', null][i % 4],
    flag: [true, false, null][i % 3],
    day: ['2024-02-29', '0001-01-01', null][i % 3],
    at: ['2024-05-01T12:34:56.123456Z', '1999-12-31T23:59:59+02:00', null][i % 3],
    ref: i % 2 === 0 ? randomUUID() : null,
    doc: DOCS[i % DOCS.length],
  }));
}

describe('many rows at once', () => {
  let owner: Actor;
  let viewer: Actor;
  let tenantId: string;
  let databaseId: string;
  let base: string;
  const rowsOf = (table: string) => `${base}/tables/${table}/rows`;
  const count = (table: string) => rowCount(info, databaseId, table);
  const createTable = async (name: string, columns: object[]) =>
    expectStatus(await owner.call('POST', `${base}/tables`, { name, columns }), 201);
  const batch = (table: string, rows: unknown[], actor: Actor = owner) =>
    actor.call('POST', `${rowsOf(table)}/batch`, { rows });
  const importFile = (table: string, format: 'csv' | 'ndjson', text: string, actor: Actor = owner) =>
    sendText(
      info,
      actor,
      'POST',
      `${rowsOf(table)}/import?format=${format}`,
      text,
      format === 'csv' ? 'text/csv' : 'application/x-ndjson',
    );
  const exportPage = (table: string, query: string, actor: Actor = owner) =>
    actor.call('GET', `${rowsOf(table)}/export?${query}`);
  /** Every page of an export, following the cursor header. */
  async function exportAll(table: string, query: string) {
    const pages: { text: string; rows: number }[] = [];
    let cursor: string | null = null;
    do {
      const response = expectStatus(
        await exportPage(table, `${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
        200,
      );
      pages.push({ text: String(response.body), rows: Number(response.headers.get('x-tenantry-rows')) });
      cursor = response.headers.get('x-tenantry-next-cursor');
    } while (cursor && pages.length < 50);
    return pages;
  }

  beforeAll(async () => {
    [owner, viewer] = await Promise.all([newActor(client, 'bulk-owner'), newActor(client, 'bulk-viewer')]);
    ({ tenantId, databaseId, base } = await tenantWithDatabase(owner));
    await addMember(owner, tenantId, viewer, 'viewer');
    await createTable('things', COLUMNS);
  });

  it('inserts every row of a batch in one go and answers them as inserted, in request order', async () => {
    const rows = everyTypeRows(40);
    const response = expectStatus(await batch('things', rows), 201).body as Batch;

    expect(response.inserted).toBe(40);
    expect(response.ids).toBeUndefined();
    expect(response.items?.map((r) => r.seq)).toEqual(rows.map((r) => r.seq));
    const first = response.items?.[0] as Row;
    expect(first).toMatchObject({ seq: 0, title: FORMULAS[0], qty: -2147483648, big: '9223372036854775807' });
    expect(first.amount).toBe('-12.50');
    expect(first.at).toBe('2024-05-01T12:34:56.123Z');
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    // A column left out takes its default; one given as null is null.
    const defaulted = expectStatus(await batch('things', [{ seq: 1000 }, { seq: 1001, qty: null }]), 201)
      .body as Batch;
    expect(defaulted.items?.map((r) => r.qty)).toEqual([7, null]);
    expect(await count('things')).toBe(42);
  });

  it('answers ids alone under Prefer: return=minimal (RFC 7240), says so in Preference-Applied, and inserts every row', async () => {
    await createTable('lean', COLUMNS);
    const rows = everyTypeRows(30, 5000);
    const minimal = expectStatus(
      await client.call('POST', `${rowsOf('lean')}/batch`, {
        token: owner.token,
        body: { rows },
        headers: { prefer: 'respond-async, return=minimal' },
      }),
      201,
    );
    const answer = minimal.body as Batch;

    expect(minimal.headers.get('preference-applied')).toBe('return=minimal');
    expect(answer.inserted).toBe(30);
    expect(answer.items).toBeUndefined();
    expect(answer.ids).toHaveLength(30);
    const stored = await inTenantDatabase(info, databaseId, (db) =>
      db.query('select seq from lean where id = any($1::uuid[]) order by seq', [answer.ids]),
    );
    expect(stored.rows.map((r: { seq: number }) => r.seq)).toEqual(rows.map((r) => r.seq));
    // Without the preference (or with another one) the rows are read back as before.
    const full = expectStatus(
      await client.call('POST', `${rowsOf('lean')}/batch`, {
        token: owner.token,
        body: { rows: everyTypeRows(2, 6000) },
        headers: { prefer: 'return=representation' },
      }),
      201,
    );
    expect(full.headers.get('preference-applied')).toBeNull();
    expect((full.body as Batch).items?.map((r) => r.seq)).toEqual([6000, 6001]);
  });

  it('writes nothing when one row is bad, and names each bad row by its index first', async () => {
    await createTable('strict', [
      { name: 'n', type: 'integer', nullable: false },
      { name: 'label', type: 'text' },
    ]);
    const rows = [{ n: 1 }, { n: 2, nope: true }, { n: 3 }, { n: 'three' }, { n: 5 }];
    const response = await batch('strict', rows);

    expect(response.status).toBe(400);
    expect(errorOf(response)?.code).toBe('validation_failed');
    expect(details(response).map((d) => [d.path, d.row])).toEqual([
      ['1.nope', 1],
      ['3.n', 3],
    ]);
    expect(errorOf(response)?.message).toMatch(/nothing was written/);
    expect(await count('strict')).toBe(0);
  });

  it(`refuses more than ${MAX_BATCH_ROWS} rows (400) and a body over ${MAX_BATCH_BYTES} bytes (413), naming the limit, and writes nothing`, async () => {
    await createTable('limits', [{ name: 'v', type: 'text' }]);
    const tooMany = await batch(
      'limits',
      Array.from({ length: MAX_BATCH_ROWS + 1 }, () => ({ v: 'x' })),
    );
    expect(tooMany.status).toBe(400);
    expect(errorOf(tooMany)).toMatchObject({ code: 'validation_failed', limitRows: MAX_BATCH_ROWS });
    expect(errorOf(tooMany)?.message).toContain(String(MAX_BATCH_ROWS));
    expect(details(tooMany)).toEqual([expect.objectContaining({ path: 'rows', code: 'too_many_rows' })]);

    const none = await batch('limits', []);
    expect(none.status).toBe(400);
    expect(details(none)[0]?.code).toBe('no_rows');

    // 25 rows of 45 000 characters: each under the row cap, together over the body cap.
    const big = Array.from({ length: 25 }, () => ({ v: 'x'.repeat(45_000) }));
    const tooLarge = await batch('limits', big);
    expect(tooLarge.status).toBe(413);
    expect(errorOf(tooLarge)).toMatchObject({ code: 'payload_too_large', limitBytes: MAX_BATCH_BYTES });
    expect(errorOf(tooLarge)?.message).toContain(String(MAX_BATCH_BYTES));

    const tooLargeFile = await importFile(
      'limits',
      'ndjson',
      `${big.map((r) => JSON.stringify(r)).join('\n')}\n`,
    );
    expect(tooLargeFile.status).toBe(413);
    expect(errorOf(tooLargeFile)).toMatchObject({ code: 'payload_too_large', limitBytes: MAX_BATCH_BYTES });
    const tooManyLines = await importFile('limits', 'csv', `v\r\n${'x\r\n'.repeat(MAX_BATCH_ROWS + 1)}`);
    expect(tooManyLines.status).toBe(400);
    expect(errorOf(tooManyLines)).toMatchObject({ limitRows: MAX_BATCH_ROWS });
    expect(await count('limits')).toBe(0);

    // Over the 256 KiB of single-object routes but under the batch's own cap: taken, and the rows,
    // over 512 KiB of JSON together, are answered by their ids.
    const accepted = expectStatus(await batch('limits', big.slice(0, 13)), 201).body as Batch;
    expect(accepted.inserted).toBe(13);
    expect(accepted.items).toBeUndefined();
    expect(accepted.ids).toHaveLength(13);
    const stored = await inTenantDatabase(info, databaseId, (pg) => pg.query('select id from limits'));
    expect(stored.rows.map((r) => r.id).sort()).toEqual([...(accepted.ids ?? [])].sort());
  });

  it('writes nothing when a constraint refuses row k, and names row k', async () => {
    await createTable('uniq', [
      { name: 'code', type: 'text', unique: true },
      { name: 'doc', type: 'jsonb', nullable: false },
    ]);
    expectStatus(await batch('uniq', [{ code: 'A', doc: {} }]), 201);

    const existing = await batch(
      'uniq',
      ['B', 'C', 'A', 'D'].map((code) => ({ code, doc: {} })),
    );
    expect(existing.status).toBe(409);
    expect(errorOf(existing)).toMatchObject({ code: 'conflict', reason: 'unique', row: 2 });
    const repeated = await batch(
      'uniq',
      ['E', 'F', 'G', 'F'].map((code) => ({ code, doc: {} })),
    );
    expect(repeated.status).toBe(409);
    expect(errorOf(repeated)).toMatchObject({ reason: 'unique', row: 3 });
    const nulls = await batch('uniq', [
      { code: 'H', doc: [] },
      { code: 'I', doc: null },
    ]);
    expect(nulls.status).toBe(400);
    expect(errorOf(nulls)).toMatchObject({ reason: 'not_null', row: 1 });
    expect(await count('uniq')).toBe(1);

    // A foreign key (a table the API cannot make, made behind its back for the tenant role).
    expectStatus(await owner.call('POST', `${base}/tables`, { name: 'parents', columns: [] }), 201);
    const parent = expectStatus(await owner.call('POST', `${rowsOf('parents')}`, {}), 201).body as Row;
    await inTenantDatabase(info, databaseId, async (pg) => {
      await pg.query(
        'create table children (id uuid primary key default gen_random_uuid(), created_at timestamptz not null default now(), updated_at timestamptz not null default now(), parent_id uuid references parents (id))',
      );
      const role = await pg.query(
        'select pg_get_userbyid(datdba) as role from pg_database where datname = current_database()',
      );
      await pg.query(`alter table children owner to "${role.rows[0].role}"`);
    });
    const orphan = await batch('children', [
      { parent_id: parent.id },
      { parent_id: parent.id },
      { parent_id: randomUUID() },
    ]);
    expect(orphan.status).toBe(409);
    expect(errorOf(orphan)).toMatchObject({ reason: 'foreign_key', row: 2 });
    expect(await count('children')).toBe(0);

    // A row over the row cap, in the middle of the batch.
    await createTable('capped', [{ name: 'v', type: 'text' }]);
    const oversized = await batch('capped', [{ v: 'a' }, { v: 'x'.repeat(MAX_ROW_BYTES) }, { v: 'b' }]);
    expect(oversized.status).toBe(400);
    expect(errorOf(oversized)).toMatchObject({ code: 'row_too_large', limitBytes: MAX_ROW_BYTES, row: 1 });
    expect(await count('capped')).toBe(0);
  });

  it('exports every column type as CSV and NDJSON and imports it back to identical rows', async () => {
    await createTable('source', COLUMNS);
    const rows = everyTypeRows(60);
    expectStatus(await batch('source', rows), 201);

    for (const format of ['csv', 'ndjson'] as const) {
      const copy = `copy_${format}`;
      await createTable(copy, COLUMNS);
      const [page] = await exportAll('source', `format=${format}&sort=seq`);
      expect(page?.rows).toBe(60);
      const imported = expectStatus(await importFile(copy, format, page?.text ?? ''), 201).body as Batch;
      expect(imported.inserted).toBe(60);

      // The same values through the API, and the same exact file once the system columns are left out.
      const read = async (table: string) =>
        (
          expectStatus(await owner.call('GET', `${rowsOf(table)}?sort=seq&limit=100`), 200).body as {
            items: Row[];
          }
        ).items.map(withoutSystem);
      expect(await read(copy)).toEqual(await read('source'));
      expect(await read(copy)).toEqual(
        rows.map((r) => ({
          ...r,
          at: r.at === null ? null : new Date(r.at as string).toISOString(),
        })),
      );
      const [again] = await exportAll(copy, `format=${format}&sort=seq`);
      const userPart = (text: string) =>
        format === 'csv'
          ? parseCsv(text).map((cells) => cells.slice(3))
          : text
              .trim()
              .split('\n')
              .map((line) => withoutSystem(JSON.parse(line)));
      expect(userPart(again?.text ?? '')).toEqual(userPart(page?.text ?? ''));
    }
    // Instants to the microsecond, not the milliseconds a read shows.
    const exact = (table: string) =>
      inTenantDatabase(
        info,
        databaseId,
        async (pg) => (await pg.query(`select seq, at::text as at from ${table} order by seq`)).rows,
      );
    expect(await exact('copy_csv')).toEqual(await exact('source'));
    expect((await exact('copy_ndjson'))[0]?.at).toMatch(/12:34:56\.123456/);
  });

  it('neutralises formulas in CSV exactly as the finance exports do, and keeps numbers as numbers', async () => {
    const [page] = await exportAll('source', 'format=csv&sort=seq');
    const [header, ...lines] = parseCsv(page?.text ?? '');
    const at = (name: string) => header?.indexOf(name) ?? -1;
    const titles = lines.map((cells) => cells[at('title')]);
    for (const [i, formula] of FORMULAS.entries()) expect(titles[i]).toBe(`'${formula}`);
    expect(titles.filter((t) => t !== undefined && /^[=+\-@\t\r]/.test(t))).toEqual([]);
    expect(titles[6]).toBe("''=already quoted");
    expect(lines[0]?.[at('qty')]).toBe('-2147483648');
    expect(lines[0]?.[at('amount')]).toBe('-12.50');
    expect(lines[1]?.[at('big')]).toBe('-9223372036854775808');
    expect(lines[2]?.[at('doc')]).toBe("'-5");
    expect(page?.text.split('\r\n')[0]).toBe(
      ['id', 'created_at', 'updated_at', ...COLUMNS.map((c) => c.name)].join(','),
    );
  });

  it('pages an export by rows and by bytes with a cursor, each page a file an import takes as it is', async () => {
    await createTable('many', [{ name: 'v', type: 'text' }]);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const rows = Array.from({ length: 600 }, (_, j) => ({ v: `row ${i * 600 + j}` }));
      ids.push(
        ...((expectStatus(await batch('many', rows), 201).body as Batch).items ?? []).map(
          (r) => r.id as string,
        ),
      );
    }
    const pages = await exportAll('many', 'format=ndjson');
    expect(pages.map((p) => p.rows)).toEqual([MAX_BATCH_ROWS, 200]);
    const exported = pages.flatMap((p) =>
      p.text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).id),
    );
    expect(exported.sort()).toEqual([...ids].sort());

    await createTable('many_copy', [{ name: 'v', type: 'text' }]);
    const first = expectStatus(await exportPage('many', 'format=csv'), 200);
    expectStatus(await importFile('many_copy', 'csv', String(first.body)), 201);
    expect(await count('many_copy')).toBe(MAX_BATCH_ROWS);

    await createTable('heavy', [{ name: 'v', type: 'text' }]);
    for (let i = 0; i < 2; i++) {
      const rows = Array.from({ length: 12 }, (_, j) => ({ v: `${i * 12 + j} ${'x'.repeat(45_000)}` }));
      expectStatus(await batch('heavy', rows), 201);
    }
    const heavy = await exportAll('heavy', 'format=csv');
    expect(heavy.length).toBeGreaterThan(1);
    for (const page of heavy) expect(Buffer.byteLength(page.text)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(heavy.reduce((sum, p) => sum + p.rows, 0)).toBe(24);
    const values = heavy.flatMap((p) =>
      parseCsv(p.text)
        .slice(1)
        .map((cells) => cells[3]?.split(' ')[0]),
    );
    expect(values.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it('refuses bad files with a 400 naming the data line, and writes nothing', async () => {
    await createTable('files', [
      { name: 'n', type: 'integer', nullable: false },
      { name: 'note', type: 'text' },
    ]);
    const csv = await importFile(
      'files',
      'csv',
      'n,note\r\n1,"two\nlines"\r\n2,ok\r\nthree,bad\r\n4,fine\r\n',
    );
    expect(csv.status).toBe(400);
    expect(details(csv)).toEqual([expect.objectContaining({ path: '2.n', row: 2, line: 5 })]);
    const cells = await importFile('files', 'csv', 'n,note\n1,a\n2\n');
    expect(details(cells)).toEqual([expect.objectContaining({ path: '1', code: 'cell_count', row: 1 })]);
    const header = await importFile('files', 'csv', 'n,nope\r\n1,a\r\n');
    expect(details(header)).toEqual([expect.objectContaining({ path: 'header.1', code: 'unknown_column' })]);
    const quotes = await importFile('files', 'csv', 'n,note\r\n1,a"b\r\n');
    expect(details(quotes)).toEqual([expect.objectContaining({ code: 'invalid_csv', line: 2 })]);
    const ndjson = await importFile('files', 'ndjson', '{"n":1}\n\n{"n":2,\n[1]\n{"n":"x"}\n');
    expect(ndjson.status).toBe(400);
    expect(details(ndjson).map((d) => [d.path, d.line])).toEqual([
      ['1', 3],
      ['2', 4],
      ['3.n', 5],
    ]);
    const mismatched = await sendText(
      info,
      owner,
      'POST',
      `${rowsOf('files')}/import?format=csv`,
      '{"n":1}',
      'application/x-ndjson',
    );
    expect(mismatched.status).toBe(415);
    expect(await count('files')).toBe(0);

    // System columns of an export are left out: the database gives new ones.
    const imported = expectStatus(
      await importFile(
        'files',
        'csv',
        `id,created_at,n,note\r\n${randomUUID()},2020-01-01T00:00:00Z,1,""\r\n`,
      ),
      201,
    ).body as Batch;
    expect(imported.items?.[0]).toMatchObject({ n: 1, note: '' });
    expect(imported.items?.[0]?.created_at).not.toBe('2020-01-01T00:00:00.000Z');
  });

  it('lets a viewer export but not write rows', async () => {
    expect((await batch('things', [{ seq: 5000 }], viewer)).status).toBe(403);
    expect((await importFile('things', 'csv', 'seq\r\n5001\r\n', viewer)).status).toBe(403);
    expectStatus(await exportPage('things', 'format=csv', viewer), 200);
    expect(await count('things')).toBe(42);
  });

  it('audits a batch and an import with their row count and table, not their rows', async () => {
    await createTable('audited', [{ name: 'secret_note', type: 'text' }]);
    const marker = `audit-marker-${randomUUID()}`;
    expectStatus(await batch('audited', [{ secret_note: marker }, { secret_note: marker }, {}]), 201);
    expectStatus(await importFile('audited', 'csv', `secret_note\r\n${marker}\r\n${marker}\r\n`), 201);
    type Audit = { items: { action: string; details: Record<string, unknown>; statusCode: number }[] };
    const records = async (action: string) =>
      (
        await eventually(
          () => owner.call('GET', `/tenants/${tenantId}/audit?action=${action}`),
          (r) => ((r.body as Audit).items ?? []).some((i) => (i.details.body as Row)?.table === 'audited'),
        )
      ).body as Audit;
    const batchRecord = (await records('batch.insertRows')).items.find(
      (i) => (i.details.body as Row)?.table === 'audited',
    );
    expect(batchRecord?.details.body).toEqual({ rows: 3, table: 'audited' });
    const importRecord = (await records('import.importRows')).items.find(
      (i) => (i.details.body as Row)?.table === 'audited',
    );
    expect(importRecord?.details.body).toEqual({ rows: 2, table: 'audited', format: 'csv' });
    expect(JSON.stringify([batchRecord, importRecord])).not.toContain(marker);
  });
});
