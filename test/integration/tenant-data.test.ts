import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { RESERVED_WORDS } from '#shared/data/identifiers';
import { MAX_PAGE_BYTES } from '#shared/data/row-statements';
import { type Actor, addMember, newActor, type TenantMaking } from '../support/actors.ts';
import { errorOf, expectStatus, withPg } from '../support/tenancy.ts';
import { ISOLATIONS, inTenantDatabase, tenantMakingFor, tenantWithDatabase } from '../support/tenant-data.ts';

/**
 * Tables and rows end to end on the local platform: every column type, nulls, defaults, unique
 * and foreign-key refusals, alter, filters, sort, keyset pages with ties and the size cap, and
 * another tenant's database id.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

type Row = Record<string, unknown>;
type Page = { items: Row[]; nextCursor: string | null };
const detailPaths = (response: { body: unknown }) =>
  ((errorOf(response as never)?.details ?? []) as { path?: string }[]).map((d) => d.path);

const ALL_TYPES = [
  { name: 'title', type: 'text', nullable: false },
  { name: 'qty', type: 'integer', default: 7 },
  { name: 'big', type: 'bigint' },
  { name: 'amount', type: 'numeric(12,2)', default: '0.00' },
  { name: 'flag', type: 'boolean', default: false },
  { name: 'day', type: 'date', default: '2024-02-29' },
  { name: 'at', type: 'timestamptz', default: 'now' },
  { name: 'ref', type: 'uuid' },
  { name: 'doc', type: 'jsonb', default: { a: [1, 'x'] } },
  { name: 'code', type: 'text', unique: true },
  { name: 'note', type: 'text', default: "it's \\ 'quoted'" },
];

describe.each(ISOLATIONS)('%s tenants', (isolation) => {
  let making: TenantMaking;
  beforeAll(async () => {
    making = await tenantMakingFor(client, isolation);
  });

  describe('tenant tables and rows', () => {
    let owner: Actor;
    let viewer: Actor;
    let tenantId: string;
    let databaseId: string;
    let base: string;

    beforeAll(async () => {
      [owner, viewer] = await Promise.all([newActor(client, 'data-owner'), newActor(client, 'data-viewer')]);
      ({ tenantId, databaseId, base } = await tenantWithDatabase(owner, {}, making));
      await addMember(owner, tenantId, viewer, 'viewer');
      expectStatus(await owner.call('POST', `${base}/tables`, { name: 'things', columns: ALL_TYPES }), 201);
    });

    it('creates a table with system columns, every type, constraints and typed defaults, read back from the catalog', async () => {
      const described = expectStatus(await owner.call('GET', `${base}/tables/things`), 200).body as {
        columns: {
          name: string;
          type: string;
          nullable: boolean;
          unique: boolean;
          default?: unknown;
          system: boolean;
        }[];
        primaryKey: string[];
        module: string | null;
      };
      const byName = Object.fromEntries(described.columns.map((c) => [c.name, c]));
      expect(described.primaryKey).toEqual(['id']);
      expect(described.module).toBeNull();
      expect(byName.id).toMatchObject({ type: 'uuid', nullable: false, system: true });
      expect(byName.created_at).toMatchObject({
        type: 'timestamptz',
        nullable: false,
        system: true,
        default: 'now',
      });
      expect(byName.updated_at).toMatchObject({ type: 'timestamptz', system: true });
      expect(byName.title).toMatchObject({ type: 'text', nullable: false, unique: false, system: false });
      expect(byName.amount).toMatchObject({ type: 'numeric(12,2)', default: '0.00' });
      expect(byName.qty).toMatchObject({ type: 'integer', default: 7 });
      expect(byName.flag).toMatchObject({ type: 'boolean', default: false });
      expect(byName.day).toMatchObject({ type: 'date', default: '2024-02-29' });
      expect(byName.at).toMatchObject({ type: 'timestamptz', default: 'now' });
      expect(byName.doc).toMatchObject({ type: 'jsonb', default: { a: [1, 'x'] } });
      expect(byName.code).toMatchObject({ unique: true });
      expect(byName.note).toMatchObject({ default: "it's \\ 'quoted'" });
      const list = expectStatus(await owner.call('GET', `${base}/tables`), 200).body as Page;
      expect(list.items.map((t) => t.name)).toContain('things');
      expect(list.items.map((t) => t.name)).not.toContain('tenantry_migrations');
    });

    it('inserts with defaults and nulls, and reads values back as the SQL port maps them', async () => {
      const ref = randomUUID();
      const full = expectStatus(
        await owner.call('POST', `${base}/tables/things/rows`, {
          title: 'full',
          qty: -2147483648,
          big: '9223372036854775807',
          amount: '9999999999.99',
          flag: true,
          day: '2000-01-01',
          at: '2024-05-01T12:34:56.789+02:00',
          ref,
          doc: { nested: { list: [1, 2, null] }, text: 'é' },
          code: 'A-1',
          note: null,
        }),
        201,
      ).body as Row;
      expect(full).toMatchObject({
        title: 'full',
        qty: -2147483648,
        big: '9223372036854775807',
        amount: '9999999999.99',
        flag: true,
        day: '2000-01-01',
        at: '2024-05-01T10:34:56.789Z',
        ref,
        doc: { nested: { list: [1, 2, null] }, text: 'é' },
        code: 'A-1',
        note: null,
      });
      expect(full.id).toMatch(/^[0-9a-f-]{36}$/);

      const defaults = expectStatus(
        await owner.call('POST', `${base}/tables/things/rows`, { title: 'defaults' }),
        201,
      ).body as Row;
      expect(defaults).toMatchObject({
        qty: 7,
        big: null,
        amount: '0.00',
        flag: false,
        day: '2024-02-29',
        ref: null,
        doc: { a: [1, 'x'] },
        code: null,
        note: "it's \\ 'quoted'",
      });
      expect(Date.now() - Date.parse(defaults.at as string)).toBeLessThan(60_000);

      const got = expectStatus(await owner.call('GET', `${base}/tables/things/rows/${full.id}`), 200).body;
      expect(got).toEqual(full);
    });

    it('refuses wrong types, unknown and system columns and missing required values with a 400 naming each column', async () => {
      const cases: [Row, string][] = [
        [{ title: 1 }, 'title'],
        [{ title: 'x', qty: 1.5 }, 'qty'],
        [{ title: 'x', qty: 2147483648 }, 'qty'],
        [{ title: 'x', big: '9223372036854775808' }, 'big'],
        [{ title: 'x', amount: '12345678901.00' }, 'amount'],
        [{ title: 'x', amount: 'NaN' }, 'amount'],
        [{ title: 'x', flag: 'yes' }, 'flag'],
        [{ title: 'x', day: '2023-02-29' }, 'day'],
        [{ title: 'x', at: 'yesterday' }, 'at'],
        [{ title: 'x', ref: 'not-a-uuid' }, 'ref'],
        [{ title: 'x', nope: 1 }, 'nope'],
        [{ title: 'x', id: randomUUID() }, 'id'],
        [{ title: 'x', created_at: '2024-01-01T00:00:00Z' }, 'created_at'],
        [{ qty: 1 }, 'title'],
        [{ title: null }, 'title'],
      ];
      for (const [body, column] of cases) {
        const response = await owner.call('POST', `${base}/tables/things/rows`, body);
        expect(response.status, `${JSON.stringify(body)} → ${JSON.stringify(response.body)}`).toBe(400);
        expect(detailPaths(response), JSON.stringify(body)).toContain(column);
      }
    });

    it('answers 409, not 500, to a unique violation on insert and on patch, and nothing is written', async () => {
      const first = expectStatus(
        await owner.call('POST', `${base}/tables/things/rows`, { title: 'u1', code: 'U' }),
        201,
      ).body as Row;
      const dup = await owner.call('POST', `${base}/tables/things/rows`, { title: 'u2', code: 'U' });
      expect(dup.status).toBe(409);
      expect(errorOf(dup)?.code).toBe('conflict');
      const other = expectStatus(
        await owner.call('POST', `${base}/tables/things/rows`, { title: 'u3', code: 'V' }),
        201,
      ).body as Row;
      const patch = await owner.call('PATCH', `${base}/tables/things/rows/${other.id}`, { code: 'U' });
      expect(patch.status).toBe(409);
      const page = expectStatus(await owner.call('GET', `${base}/tables/things/rows?filter[code][eq]=U`), 200)
        .body as Page;
      expect(page.items.map((r) => r.id)).toEqual([first.id]);
    });

    it('patches (updated_at moves, nulls allowed only where nullable) and deletes rows', async () => {
      const row = expectStatus(await owner.call('POST', `${base}/tables/things/rows`, { title: 'p' }), 201)
        .body as Row;
      await new Promise((resolve) => setTimeout(resolve, 5));
      const patched = expectStatus(
        await owner.call('PATCH', `${base}/tables/things/rows/${row.id}`, { qty: 3, doc: null, note: 'n' }),
        200,
      ).body as Row;
      expect(patched).toMatchObject({ id: row.id, title: 'p', qty: 3, doc: null, note: 'n' });
      expect(Date.parse(patched.updated_at as string)).toBeGreaterThan(Date.parse(row.updated_at as string));
      const notNull = await owner.call('PATCH', `${base}/tables/things/rows/${row.id}`, { title: null });
      expect(notNull.status).toBe(400);
      expect(detailPaths(notNull)).toContain('title');
      expect((await owner.call('PATCH', `${base}/tables/things/rows/${row.id}`, {})).status).toBe(400);
      expectStatus(await owner.call('DELETE', `${base}/tables/things/rows/${row.id}`), 204);
      expect((await owner.call('GET', `${base}/tables/things/rows/${row.id}`)).status).toBe(404);
      expect((await owner.call('DELETE', `${base}/tables/things/rows/${row.id}`)).status).toBe(404);
      expect(
        (await owner.call('PATCH', `${base}/tables/things/rows/${randomUUID()}`, { qty: 1 })).status,
      ).toBe(404);
    });

    it('filters with every operator on typed columns, and refuses bad filters with a 400 naming the parameter', async () => {
      expectStatus(
        await owner.call('POST', `${base}/tables`, {
          name: 'measures',
          columns: [
            { name: 'label', type: 'text' },
            { name: 'n', type: 'integer' },
            { name: 'ok', type: 'boolean' },
          ],
        }),
        201,
      );
      const labels = ['alpha', 'beta', 'gamma', 'delta', null];
      for (const [i, label] of labels.entries()) {
        expectStatus(
          await owner.call('POST', `${base}/tables/measures/rows`, { label, n: i, ok: i % 2 === 0 }),
          201,
        );
      }
      const ns = async (query: string) =>
        (
          expectStatus(await owner.call('GET', `${base}/tables/measures/rows?sort=n&${query}`), 200)
            .body as Page
        ).items.map((r) => r.n);
      expect(await ns('filter[n][eq]=2')).toEqual([2]);
      expect(await ns('filter[n][ne]=2')).toEqual([0, 1, 3, 4]);
      expect(await ns('filter[n][lt]=2')).toEqual([0, 1]);
      expect(await ns('filter[n][lte]=2')).toEqual([0, 1, 2]);
      expect(await ns('filter[n][gt]=2')).toEqual([3, 4]);
      expect(await ns('filter[n][gte]=2&filter[n][lt]=4')).toEqual([2, 3]);
      expect(await ns('filter[n][in]=1,3,99')).toEqual([1, 3]);
      expect(await ns(`filter[label][in]=${encodeURIComponent('["alpha","delta"]')}`)).toEqual([0, 3]);
      expect(await ns(`filter[label][like]=${encodeURIComponent('%a')}`)).toEqual([0, 1, 2, 3]);
      expect(await ns('filter[label][is_null]=true')).toEqual([4]);
      expect(await ns('filter[label][is_null]=false')).toEqual([0, 1, 2, 3]);
      expect(await ns('filter[ok][eq]=true')).toEqual([0, 2, 4]);

      const bad = [
        ['filter[nope][eq]=1', 'filter[nope][eq]'],
        ['filter[n][eq]=abc', 'filter[n][eq]'],
        ['filter[n][like]=1', 'filter[n][like]'],
        ['filter[n][between]=1', 'filter[n][between]'],
        ['filter[n][is_null]=maybe', 'filter[n][is_null]'],
        ['filter[ok][lt]=true', 'filter[ok][lt]'],
        ['where=n.eq.1', 'where'],
        ['sort=nope', 'sort'],
        ['sort=n;drop', 'sort'],
        ['limit=101', 'limit'],
        ['cursor=bm9wZQ', 'cursor'],
      ];
      for (const [query, path] of bad) {
        const response = await owner.call('GET', `${base}/tables/measures/rows?${query}`);
        expect(response.status, `${query}: ${JSON.stringify(response.body)}`).toBe(400);
        expect(detailPaths(response), query).toContain(path);
      }
    });

    it('pages with a keyset cursor that is stable with ties, ascending and descending, with nulls', async () => {
      expectStatus(
        await owner.call('POST', `${base}/tables`, {
          name: 'ties',
          columns: [{ name: 'score', type: 'numeric(6,1)' }],
        }),
        201,
      );
      const scores = [1, 1, 1, 2, 2, null, 3, 1, null, 2, 3, 3, 1];
      const ids: string[] = [];
      for (const score of scores) {
        const row = expectStatus(
          await owner.call('POST', `${base}/tables/ties/rows`, {
            score: score === null ? null : String(score),
          }),
          201,
        ).body as Row;
        ids.push(row.id as string);
      }
      for (const sort of ['score', '-score', 'id', '-created_at']) {
        const seen: Row[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = `sort=${sort}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
          const page = expectStatus(await owner.call('GET', `${base}/tables/ties/rows?${query}`), 200)
            .body as Page;
          expect(page.items.length).toBeLessThanOrEqual(3);
          seen.push(...page.items);
          cursor = page.nextCursor;
          pages += 1;
        } while (cursor && pages < 20);
        expect(new Set(seen.map((r) => r.id)).size, sort).toBe(scores.length);
        expect([...seen.map((r) => r.id)].sort()).toEqual([...ids].sort());
        if (sort === 'score') {
          const values = seen.map((r) => r.score);
          expect(values).toEqual([
            ...scores
              .filter((s) => s !== null)
              .map((s) => `${s}.0`)
              .sort(),
            null,
            null,
          ]);
        }
        if (sort === '-score') expect(seen.slice(0, 2).map((r) => r.score)).toEqual([null, null]);
      }
      const mismatched = expectStatus(
        await owner.call('GET', `${base}/tables/ties/rows?sort=score&limit=2`),
        200,
      ).body as Page;
      const wrong = await owner.call(
        'GET',
        `${base}/tables/ties/rows?sort=-score&cursor=${mismatched.nextCursor}`,
      );
      expect(wrong.status).toBe(400);
    });

    it(`cuts a page at ${MAX_PAGE_BYTES} bytes of rows and says so with nextCursor`, async () => {
      expectStatus(
        await owner.call('POST', `${base}/tables`, {
          name: 'blobs',
          columns: [{ name: 'body', type: 'text' }],
        }),
        201,
      );
      // Rows near the row cap (MAX_ROW_BYTES), 14 of them: more than one page's worth of bytes.
      const body = 'x'.repeat(50_000);
      for (let i = 0; i < 14; i += 1) {
        expectStatus(await owner.call('POST', `${base}/tables/blobs/rows`, { body }), 201);
      }
      const first = expectStatus(await owner.call('GET', `${base}/tables/blobs/rows?limit=100`), 200)
        .body as Page;
      expect(first.items.length).toBeGreaterThan(0);
      expect(first.items.length).toBeLessThan(14);
      expect(JSON.stringify(first.items).length).toBeLessThanOrEqual(MAX_PAGE_BYTES + 1_000);
      expect(first.nextCursor).not.toBeNull();
      const rest = expectStatus(
        await owner.call('GET', `${base}/tables/blobs/rows?limit=100&cursor=${first.nextCursor}`),
        200,
      ).body as Page;
      expect(first.items.length + rest.items.length).toBe(14);
      expect(rest.nextCursor).toBeNull();
    });

    it('alters tables: add with a default, rename, drop; refuses system columns and conflicting data with 4xx', async () => {
      expectStatus(
        await owner.call('POST', `${base}/tables`, {
          name: 'people',
          columns: [{ name: 'nick', type: 'text' }],
        }),
        201,
      );
      expectStatus(await owner.call('POST', `${base}/tables/people/rows`, { nick: 'a' }), 201);
      expectStatus(await owner.call('POST', `${base}/tables/people/rows`, { nick: 'a' }), 201);
      const altered = expectStatus(
        await owner.call('PATCH', `${base}/tables/people`, {
          addColumns: [{ name: 'age', type: 'integer', nullable: false, default: 18 }],
          renameColumns: [{ from: 'nick', to: 'handle' }],
        }),
        200,
      ).body as { columns: { name: string }[] };
      expect(altered.columns.map((c) => c.name)).toEqual(['id', 'created_at', 'updated_at', 'handle', 'age']);
      const page = expectStatus(await owner.call('GET', `${base}/tables/people/rows`), 200).body as Page;
      expect(page.items.map((r) => [r.handle, r.age])).toEqual([
        ['a', 18],
        ['a', 18],
      ]);
      // Writes follow the new shape at once in this process.
      expect((await owner.call('POST', `${base}/tables/people/rows`, { nick: 'b' })).status).toBe(400);
      expectStatus(await owner.call('POST', `${base}/tables/people/rows`, { handle: 'b' }), 201);

      const notNullNoDefault = await owner.call('PATCH', `${base}/tables/people`, {
        addColumns: [{ name: 'email', type: 'text', nullable: false }],
      });
      expect(notNullNoDefault.status).toBe(409);
      const uniqueOnDuplicates = await owner.call('PATCH', `${base}/tables/people`, {
        addColumns: [{ name: 'code', type: 'integer', unique: true, default: 1 }],
      });
      expect(uniqueOnDuplicates.status).toBe(409);
      for (const body of [
        { dropColumns: ['id'] },
        { dropColumns: ['missing'] },
        { renameColumns: [{ from: 'created_at', to: 'born' }] },
        { renameColumns: [{ from: 'handle', to: 'select' }] },
        { addColumns: [{ name: 'handle', type: 'text' }] },
        { addColumns: [{ name: 'ctid', type: 'text' }] },
        {},
      ]) {
        const response = await owner.call('PATCH', `${base}/tables/people`, body);
        expect(response.status, JSON.stringify(body)).toBe(400);
      }
      const dropped = expectStatus(
        await owner.call('PATCH', `${base}/tables/people`, { dropColumns: ['age'] }),
        200,
      ).body as { columns: { name: string }[] };
      expect(dropped.columns.map((c) => c.name)).not.toContain('age');
    });

    it('refuses invalid table definitions and duplicate tables with 4xx', async () => {
      const invalid = [
        { name: 'Upper', columns: [] },
        { name: 'select', columns: [] },
        { name: 'pg_things', columns: [] },
        { name: 'tenantry_x', columns: [] },
        { name: 'sql_x', columns: [] },
        { name: 'a'.repeat(64), columns: [] },
        { name: 'ok_name', columns: [{ name: 'id', type: 'text' }] },
        { name: 'ok_name', columns: [{ name: 'x', type: 'varchar' }] },
        { name: 'ok_name', columns: [{ name: 'x', type: 'numeric(3,4)' }] },
        { name: 'ok_name', columns: [{ name: 'x', type: 'integer', default: 'now' }] },
        { name: 'ok_name', columns: [{ name: 'x', type: 'text', default: { sql: 'now()' } }] },
        {
          name: 'ok_name',
          columns: [{ name: 'x', type: 'date', default: "2024-01-01'); drop table things; --" }],
        },
        {
          name: 'ok_name',
          columns: [
            { name: 'x', type: 'text' },
            { name: 'x', type: 'text' },
          ],
        },
      ];
      for (const body of invalid) {
        const response = await owner.call('POST', `${base}/tables`, body);
        expect(response.status, JSON.stringify(body)).toBe(400);
      }
      expect((await owner.call('POST', `${base}/tables`, { name: 'things', columns: [] })).status).toBe(409);
      expect((await owner.call('GET', `${base}/tables/tenantry_migrations`)).status).toBe(404);
      expect((await owner.call('DELETE', `${base}/tables/tenantry_migrations`)).status).toBe(404);
      expect((await owner.call('GET', `${base}/tables/no_such_table/rows`)).status).toBe(404);
    });

    it('answers 409 when deleting a row or dropping a table that others refer to', async () => {
      expectStatus(await owner.call('POST', `${base}/tables`, { name: 'parents', columns: [] }), 201);
      const parent = expectStatus(await owner.call('POST', `${base}/tables/parents/rows`, {}), 201)
        .body as Row;
      // A table the API cannot make (a foreign key), made behind its back and given to the tenant role.
      await inTenantDatabase(info, databaseId, async (pg) => {
        await pg.query(
          'create table children (id uuid primary key default gen_random_uuid(), parent_id uuid references parents (id))',
        );
        const owner = await pg.query(
          'select pg_get_userbyid(datdba) as role from pg_database where datname = current_database()',
        );
        await pg.query(`alter table children owner to "${owner.rows[0].role}"`);
      });
      await inTenantDatabase(info, databaseId, (pg) =>
        pg.query('insert into children (parent_id) values ($1)', [parent.id]),
      );
      expect((await owner.call('DELETE', `${base}/tables/parents/rows/${parent.id}`)).status).toBe(409);
      expect((await owner.call('DELETE', `${base}/tables/parents`)).status).toBe(409);
      const orphan = await owner.call('POST', `${base}/tables/children/rows`, { parent_id: randomUUID() });
      expect(orphan.status).toBe(409);
    });

    it('enforces permissions: a viewer reads rows but cannot write them or change tables', async () => {
      expectStatus(await viewer.call('GET', `${base}/tables/things/rows`), 200);
      expect((await viewer.call('POST', `${base}/tables/things/rows`, { title: 'v' })).status).toBe(403);
      expect(
        (await viewer.call('POST', `${base}/tables`, { name: 'viewer_table', columns: [] })).status,
      ).toBe(403);
      expect((await viewer.call('DELETE', `${base}/tables/things`)).status).toBe(403);
    });

    it('drops a table', async () => {
      expectStatus(await owner.call('POST', `${base}/tables`, { name: 'doomed', columns: [] }), 201);
      expectStatus(await owner.call('DELETE', `${base}/tables/doomed`), 204);
      expect((await owner.call('GET', `${base}/tables/doomed`)).status).toBe(404);
      expect((await owner.call('GET', `${base}/tables/doomed/rows`)).status).toBe(404);
    });

    it('keeps the reserved word list equal to the server’s reserved key words', async () => {
      const words = await withPg(info, 'postgres', async (pg) =>
        (
          await pg.query("select word from pg_get_keywords() where catcode in ('R', 'T') order by word")
        ).rows.map((r) => r.word as string),
      );
      expect([...RESERVED_WORDS].sort()).toEqual(words);
    });
  });

  describe('another tenant’s database id', () => {
    it('answers 404 on every table and row route to a tenant using a database id copied from another tenant, and leaks nothing', async () => {
      const [ownerA, ownerB] = await Promise.all([
        newActor(client, 'data-iso-a'),
        newActor(client, 'data-iso-b'),
      ]);
      const [a, b] = await Promise.all([
        tenantWithDatabase(ownerA, {}, making),
        tenantWithDatabase(ownerB, {}, making),
      ]);
      expectStatus(
        await ownerA.call('POST', `${a.base}/tables`, {
          name: 'secrets',
          columns: [{ name: 'v', type: 'text' }],
        }),
        201,
      );
      const row = expectStatus(
        await ownerA.call('POST', `${a.base}/tables/secrets/rows`, { v: 'a-secret-value' }),
        201,
      ).body as Row;
      // B's tenant id with A's database id: the path B is allowed to call, the object B is not.
      const foreign = `/tenants/${b.tenantId}/databases/${a.databaseId}`;
      const attempts: [string, string, unknown?][] = [
        ['GET', `${foreign}/tables`],
        ['POST', `${foreign}/tables`, { name: 'planted', columns: [] }],
        ['GET', `${foreign}/tables/secrets`],
        ['PATCH', `${foreign}/tables/secrets`, { dropColumns: ['v'] }],
        ['DELETE', `${foreign}/tables/secrets`],
        ['GET', `${foreign}/tables/secrets/rows`],
        ['POST', `${foreign}/tables/secrets/rows`, { v: 'planted' }],
        ['GET', `${foreign}/tables/secrets/rows/${row.id}`],
        ['PATCH', `${foreign}/tables/secrets/rows/${row.id}`, { v: 'changed' }],
        ['DELETE', `${foreign}/tables/secrets/rows/${row.id}`],
      ];
      for (const [method, path, body] of attempts) {
        const response = await ownerB.call(method, path, body);
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(JSON.stringify(response.body)).not.toContain('a-secret-value');
        expect(JSON.stringify(response.body)).not.toContain('secrets');
      }
      const after = expectStatus(await ownerA.call('GET', `${a.base}/tables/secrets/rows`), 200).body as Page;
      expect(after.items).toEqual([row]);
      const tables = expectStatus(await ownerA.call('GET', `${a.base}/tables`), 200).body as Page;
      expect(tables.items.map((t) => t.name)).toEqual(['secrets']);
      // And B's own database still works for B.
      expectStatus(await ownerB.call('GET', `${b.base}/tables`), 200);
    });
  });
});
