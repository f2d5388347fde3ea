import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { PgSqlRunner } from '#shared/adapters/pg-sql';
import { readTable } from '#shared/data/catalog';
import { rowsQuerySchema } from '#shared/data/row-query';
import { DATA_API_MAX_ROW_BYTES, MAX_ROW_BYTES } from '#shared/data/row-size';
import { rowPageStatement } from '#shared/data/row-statements';
import { MAX_COLUMNS } from '#shared/data/tables';
import { type Actor, newActor } from '../support/actors.ts';
import { type ClosableRunner, dataApiRunner, errorOf, expectStatus } from '../support/tenancy.ts';
import { databaseNameOf, tenantWithDatabase } from '../support/tenant-data.ts';
import { tenantSecretOf } from '../support/tenant-secrets.ts';

/**
 * "Never write then fail": every row the API accepts can be read back through the Data API, whose
 * result rows are limited to 64 KB and results to 1 MiB. A row's JSON is capped at MAX_ROW_BYTES
 * (writes over it are a 400 row_too_large and write nothing), a table has at most MAX_COLUMNS
 * columns of its own (so its smallest row always fits), a default too large for any row is refused,
 * a change of a table that would push its rows over the cap is a 409, and a page's rows, sort key
 * included, stay under the per-row limit whatever the sort. Measured as the database sees rows
 * (`row_to_json` sizes, as superuser), on the local platform.
 */

const info = inject('platform');
const client = new LocalClient(info);

type Row = Record<string, unknown>;
type Page = { items: Row[]; nextCursor: string | null };

let owner: Actor;
let base: string;
/**
 * Measures stored rows as PostgreSQL holds them (`row_to_json` sizes): the engine's superuser on
 * the wire, for the measurement only. What the product runs (reading the catalog, the page
 * statement) goes through `tenantDb`.
 */
let measure: PgSqlRunner;
/** The tenant database as the handlers reach it: the Data API adapter, with the tenant's own secret. */
let tenantDb: ClosableRunner;

/** The largest row of `table` as `row_to_json` text, in bytes (0 for an empty table). */
const largestRow = async (table: string) => {
  const [row] = await measure.query<{ bytes: number | null }>(
    `select max(octet_length(row_to_json(t)::text))::integer as bytes from "${table}" t`,
  );
  return row?.bytes ?? 0;
};
const rowCount = async (table: string) =>
  (await measure.query<{ n: number }>(`select count(*)::integer as n from "${table}"`))[0]?.n;

const expectRowTooLarge = (response: Awaited<ReturnType<Actor['call']>>, label: string) => {
  expect(response.status, `${label}: ${JSON.stringify(response.body).slice(0, 300)}`).toBe(400);
  expect(errorOf(response)?.code, label).toBe('row_too_large');
  expect((errorOf(response) as { limitBytes?: number }).limitBytes, label).toBe(MAX_ROW_BYTES);
};

beforeAll(async () => {
  owner = await newActor(client, 'rowsize-owner');
  const tenant = await tenantWithDatabase(owner);
  base = tenant.base;
  const database = await databaseNameOf(info, tenant.databaseId);
  measure = new PgSqlRunner({ ...info.postgres, database });
  const secret = await tenantSecretOf(info, tenant.tenantId);
  if (!secret) throw new Error(`tenant ${tenant.tenantId} has no secret`);
  tenantDb = dataApiRunner(info, database, secret.arn);
});

afterAll(async () => {
  await measure.close();
  tenantDb?.close();
  client.close();
});

describe('the row cap', () => {
  it('refuses a write that would make a row larger than the cap with 400 row_too_large, on insert and on patch, and writes nothing', async () => {
    // Arrange: two text columns, each well under its own 100 000-character limit.
    expectStatus(
      await owner.call('POST', `${base}/tables`, {
        name: 'notes',
        columns: [
          { name: 'a', type: 'text' },
          { name: 'b', type: 'text' },
        ],
      }),
      201,
    );
    const half = 'x'.repeat(Math.floor(MAX_ROW_BYTES / 2) - 300);
    const row = expectStatus(await owner.call('POST', `${base}/tables/notes/rows`, { a: half }), 201)
      .body as Row;

    // Act + Assert: a row grows past the cap through a patch; a row is born past it; bytes count, not characters.
    expectRowTooLarge(
      await owner.call('PATCH', `${base}/tables/notes/rows/${row.id}`, { b: `${half}${'y'.repeat(1_000)}` }),
      'patch',
    );
    expectRowTooLarge(
      await owner.call('POST', `${base}/tables/notes/rows`, { a: half, b: `${half}${'y'.repeat(1_000)}` }),
      'insert',
    );
    expectRowTooLarge(
      await owner.call('POST', `${base}/tables/notes/rows`, { a: 'é'.repeat(Math.ceil(MAX_ROW_BYTES / 2)) }),
      'two bytes a character',
    );
    const unchanged = expectStatus(await owner.call('GET', `${base}/tables/notes/rows/${row.id}`), 200)
      .body as Row;
    expect(unchanged).toEqual(row);
    expect(await rowCount('notes')).toBe(1);

    // Just under the cap is fine, and every stored row is within it.
    expectStatus(await owner.call('PATCH', `${base}/tables/notes/rows/${row.id}`, { b: half }), 200);
    expect(await largestRow('notes')).toBeGreaterThan(MAX_ROW_BYTES - 1_000);
    expect(await largestRow('notes')).toBeLessThanOrEqual(MAX_ROW_BYTES);
  });

  it('reads the largest rows back in pages whose every row, sort key included, stays under the Data API row limit', async () => {
    expectStatus(
      await owner.call('POST', `${base}/tables`, {
        name: 'fat',
        columns: [
          { name: 't', type: 'text' },
          { name: 'n', type: 'numeric' },
        ],
      }),
      201,
    );
    const near = MAX_ROW_BYTES - 1_500;
    for (const letter of ['c', 'a', 'b']) {
      expectStatus(
        await owner.call('POST', `${base}/tables/fat/rows`, { t: letter.repeat(near), n: '9'.repeat(1_000) }),
        201,
      );
    }
    const info = await readTable(tenantDb.runner, 'fat');
    if (!info) throw new Error('no table fat');
    for (const sort of ['t', '-t', 'n', 'created_at', '-id']) {
      // Each page row as the page statement returns it: read through the Data API as the tenant
      // (it must answer), and measured like a stored row.
      const page = rowPageStatement(info, rowsQuerySchema.parse({ sort, limit: '100' }));
      expect(await tenantDb.runner.query(page.sql, page.params), sort).toHaveLength(3);
      const [sized] = await measure.query<{ bytes: number; rows: number }>(
        `select max(octet_length(row_to_json(p)::text))::integer as bytes, count(*)::integer as rows
           from (${page.sql}) p`,
        page.params,
      );
      expect({ sort, rows: sized?.rows }).toEqual({ sort, rows: 3 });
      expect(sized?.bytes, sort).toBeLessThanOrEqual(DATA_API_MAX_ROW_BYTES);
    }
    // A text sort key is read from the row itself now: its cursors still page exactly.
    expectStatus(
      await owner.call('POST', `${base}/tables`, { name: 'words', columns: [{ name: 't', type: 'text' }] }),
      201,
    );
    for (const t of ['b', 'c', null, 'a', 'b']) {
      expectStatus(await owner.call('POST', `${base}/tables/words/rows`, { t }), 201);
    }
    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const query = `sort=-t&limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const page = expectStatus(await owner.call('GET', `${base}/tables/words/rows?${query}`), 200)
        .body as Page;
      seen.push(...page.items.map((item) => item.t));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([null, 'c', 'b', 'b', 'a']);
  });
});

describe('what a table may declare', () => {
  const wideName = (i: number) => `c${String(i).padStart(3, '0')}_${'w'.repeat(58)}`;

  it(`holds at most ${MAX_COLUMNS} columns of its own in all, and the widest table's smallest row fits`, async () => {
    const columns = Array.from({ length: MAX_COLUMNS }, (_, i) => ({
      name: wideName(i),
      type: 'uuid',
      nullable: false,
    }));
    expect(wideName(0)).toHaveLength(63);
    expectStatus(await owner.call('POST', `${base}/tables`, { name: 'widest', columns }), 201);
    // uuid is the widest smallest value a column can be made to take (a timestamptz is shorter).
    const values = Object.fromEntries(
      columns.map((c, i) => [c.name, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`]),
    );
    expectStatus(await owner.call('POST', `${base}/tables/widest/rows`, values), 201);
    expect(await largestRow('widest')).toBeLessThan(MAX_ROW_BYTES / 4);

    const more = await owner.call('PATCH', `${base}/tables/widest`, {
      addColumns: [{ name: 'one_more', type: 'text' }],
    });
    expect(more.status, JSON.stringify(more.body).slice(0, 300)).toBe(400);
    expect(errorOf(more)?.details).toEqual([
      expect.objectContaining({ path: 'addColumns', code: 'too_many_columns' }),
    ]);
    const described = expectStatus(await owner.call('GET', `${base}/tables/widest`), 200).body as {
      columns: { name: string }[];
    };
    expect(described.columns).toHaveLength(MAX_COLUMNS + 3);
    // Dropping one makes room for one.
    expectStatus(
      await owner.call('PATCH', `${base}/tables/widest`, {
        dropColumns: [wideName(0)],
        addColumns: [{ name: 'one_more', type: 'text' }],
      }),
      200,
    );
  });

  it('refuses a default that no row could hold, at create and at alter, with a 400 naming it', async () => {
    const huge = 'd'.repeat(MAX_ROW_BYTES);
    const created = await owner.call('POST', `${base}/tables`, {
      name: 'defaulted',
      columns: [{ name: 'x', type: 'text', default: huge }],
    });
    expect(created.status, JSON.stringify(created.body).slice(0, 300)).toBe(400);
    expect(errorOf(created)?.details).toEqual([expect.objectContaining({ path: 'columns.0.default' })]);
    expect((await owner.call('GET', `${base}/tables/defaulted`)).status).toBe(404);

    expectStatus(await owner.call('POST', `${base}/tables`, { name: 'defaulted', columns: [] }), 201);
    const altered = await owner.call('PATCH', `${base}/tables/defaulted`, {
      addColumns: [{ name: 'doc', type: 'jsonb', default: { text: huge } }],
    });
    expect(altered.status).toBe(400);
    expect(errorOf(altered)?.details).toEqual([expect.objectContaining({ path: 'addColumns.0.default' })]);
  });

  it('answers 409 row_too_large to a change that would push existing rows over the cap, and changes nothing', async () => {
    // Arrange: one row 16–44 bytes under the cap (timestamps vary a few bytes in length).
    expectStatus(
      await owner.call('POST', `${base}/tables`, { name: 'brim', columns: [{ name: 'a', type: 'text' }] }),
      201,
    );
    const probe = expectStatus(await owner.call('POST', `${base}/tables/brim/rows`, { a: '' }), 201)
      .body as Row;
    const overhead = await largestRow('brim');
    expectStatus(
      await owner.call('PATCH', `${base}/tables/brim/rows/${probe.id}`, {
        a: 'z'.repeat(MAX_ROW_BYTES - overhead - 30),
      }),
      200,
    );
    expect(MAX_ROW_BYTES - (await largestRow('brim'))).toBeLessThan(62);

    // Act + Assert: each change would add more than the room left to the row.
    for (const change of [
      { addColumns: [{ name: 'pad', type: 'text', default: 'p'.repeat(100) }] },
      { addColumns: [{ name: 'n'.repeat(63), type: 'text' }] },
      { renameColumns: [{ from: 'a', to: 'a'.repeat(63) }] },
    ]) {
      const response = await owner.call('PATCH', `${base}/tables/brim`, change);
      expect(response.status, JSON.stringify(change).slice(0, 80)).toBe(409);
      expect((errorOf(response) as { reason?: string }).reason).toBe('row_too_large');
    }
    const described = expectStatus(await owner.call('GET', `${base}/tables/brim`), 200).body as {
      columns: { name: string }[];
    };
    expect(described.columns.map((c) => c.name)).toEqual(['id', 'created_at', 'updated_at', 'a']);
    expect(await largestRow('brim')).toBeLessThanOrEqual(MAX_ROW_BYTES);
    // A change that makes room is fine.
    expectStatus(
      await owner.call('PATCH', `${base}/tables/brim`, { renameColumns: [{ from: 'a', to: 'b' }] }),
      200,
    );
  });
});
