import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { identifierProblem } from '#shared/data/identifiers';
import { type Actor, newActor } from '../support/actors.ts';
import { expectStatus } from '../support/tenancy.ts';
import { inTenantDatabase, tenantWithDatabase } from '../support/tenant-data.ts';

/**
 * Property-based injection tests: hostile table names, column names, filter values, sort keys,
 * row values and defaults are thrown at the API. Each gets a 4xx (never a 5xx, never a 2xx for an
 * invalid identifier), values round-trip verbatim, and afterwards the database holds exactly what
 * it held: the canary table and its row, a superuser-made `tenantry_` sentinel, no new table, no
 * new role.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

const PAYLOADS = [
  "'; drop table canary; --",
  '"; drop table canary; --',
  'canary"; drop table canary; --',
  "x' or '1'='1",
  '1; select pg_sleep(1); --',
  'a) ; drop table canary cascade; create table pwned (x int',
  '$$; drop table canary; $$',
  "E'\\''; drop table canary; --",
  '/* */ drop table canary',
  'tenantry_sentinel',
  'pg_catalog.pg_roles',
  'public.canary',
  '"canary"',
  'canary;',
  'id',
  'created_at',
  'select',
  'CANARY',
  'ünïcödé',
  '😀',
  '%',
  '\\',
  ' canary',
  'a'.repeat(64),
];

const hostile = fc.oneof(
  fc.constantFrom(...PAYLOADS),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .tuple(fc.constantFrom('canary', 'n', 'label', 'x'), fc.constantFrom(...PAYLOADS))
    .map(([a, b]) => `${a}${b}`),
);
/** Hostile text that can be sent (NUL is refused for every route, which another suite proves). */
const sendable = hostile.filter((text) => !text.includes('\u0000'));

const is4xx = (status: number) => status >= 400 && status < 500;

describe('injection (property-based, on the local platform)', () => {
  let owner: Actor;
  let databaseId: string;
  let base: string;
  let canaryId: string;
  let rolesBefore: number;

  const tablesNow = () =>
    inTenantDatabase(info, databaseId, async (pg) =>
      (
        await pg.query(
          `select relname from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace order by relname`,
        )
      ).rows.map((r) => r.relname as string),
    );
  const rolesNow = () =>
    inTenantDatabase(info, databaseId, async (pg) =>
      Number((await pg.query('select count(*) from pg_roles')).rows[0].count),
    );

  beforeAll(async () => {
    owner = await newActor(client, 'inject-owner');
    ({ databaseId, base } = await tenantWithDatabase(owner));
    expectStatus(
      await owner.call('POST', `${base}/tables`, { name: 'canary', columns: [{ name: 'v', type: 'text' }] }),
      201,
    );
    expectStatus(
      await owner.call('POST', `${base}/tables`, {
        name: 'targets',
        columns: [
          { name: 'label', type: 'text' },
          { name: 'n', type: 'integer' },
          { name: 'amount', type: 'numeric(8,2)' },
          { name: 'at', type: 'timestamptz' },
          { name: 'ref', type: 'uuid' },
          { name: 'doc', type: 'jsonb' },
        ],
      }),
      201,
    );
    canaryId = (
      expectStatus(await owner.call('POST', `${base}/tables/canary/rows`, { v: 'alive' }), 201).body as {
        id: string;
      }
    ).id;
    await inTenantDatabase(info, databaseId, (pg) => pg.query('create table tenantry_sentinel (x int)'));
    rolesBefore = await rolesNow();
  });

  afterAll(async () => {
    // Nothing injected ran: the same tables, the canary row, the sentinel, no new role.
    expect(await tablesNow()).toEqual(['canary', 'targets', 'tenantry_migrations', 'tenantry_sentinel']);
    const canary = expectStatus(await owner.call('GET', `${base}/tables/canary/rows/${canaryId}`), 200).body;
    expect(canary).toMatchObject({ v: 'alive' });
    expect(await rolesNow()).toBe(rolesBefore);
  });

  it('hostile table names: 400 on create when invalid (201 only when valid), 4xx as a path parameter', async () => {
    await fc.assert(
      fc.asyncProperty(sendable, async (name) => {
        const created = await owner.call('POST', `${base}/tables`, { name, columns: [] });
        if (identifierProblem(name, 'table') !== null) {
          expect(created.status, `${JSON.stringify(name)}: ${JSON.stringify(created.body)}`).toBe(400);
        } else {
          expect([201, 409]).toContain(created.status);
          if (created.status === 201) expectStatus(await owner.call('DELETE', `${base}/tables/${name}`), 204);
        }
        if (name === 'canary' || name === 'targets') return;
        for (const path of [
          `${base}/tables/${encodeURIComponent(name)}`,
          `${base}/tables/${encodeURIComponent(name)}/rows`,
        ]) {
          const response = await owner.call('GET', path);
          expect(is4xx(response.status), `${path}: ${response.status}`).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('hostile column names: 400 on create and alter when invalid', async () => {
    await fc.assert(
      fc.asyncProperty(sendable, async (column) => {
        fc.pre(identifierProblem(column, 'column') !== null);
        const created = await owner.call('POST', `${base}/tables`, {
          name: 'never_made',
          columns: [{ name: column, type: 'text' }],
        });
        expect(created.status, JSON.stringify(column)).toBe(400);
        const altered = await owner.call('PATCH', `${base}/tables/targets`, {
          addColumns: [{ name: column, type: 'text' }],
        });
        expect(altered.status, JSON.stringify(column)).toBe(400);
        const renamed = await owner.call('PATCH', `${base}/tables/targets`, {
          renameColumns: [{ from: 'label', to: column }],
        });
        expect(renamed.status, JSON.stringify(column)).toBe(400);
        const dropped = await owner.call('PATCH', `${base}/tables/targets`, { dropColumns: [column] });
        expect(dropped.status, JSON.stringify(column)).toBe(400);
      }),
      { numRuns: 40 },
    );
  });

  it('hostile filter values, filter columns, operators and sort keys: 200 or 400, never 5xx; a text filter matches verbatim', async () => {
    await fc.assert(
      fc.asyncProperty(
        sendable,
        fc.constantFrom('label', 'n', 'amount', 'at', 'ref', 'doc', 'id'),
        fc.constantFrom('eq', 'ne', 'lt', 'gte', 'in', 'like', 'is_null'),
        async (value, column, operator) => {
          const q = (key: string, v: string) => `${encodeURIComponent(key)}=${encodeURIComponent(v)}`;
          const byValue = await owner.call(
            'GET',
            `${base}/tables/targets/rows?${q(`filter[${column}][${operator}]`, value)}`,
          );
          expect([200, 400], `${column} ${operator} ${JSON.stringify(value)}: ${byValue.status}`).toContain(
            byValue.status,
          );
          if (column === 'label' && operator === 'eq') expect(byValue.status).toBe(200);

          const byColumn = await owner.call(
            'GET',
            `${base}/tables/targets/rows?${q(`filter[${value}][eq]`, '1')}`,
          );
          const knownColumn = [
            'label',
            'n',
            'amount',
            'at',
            'ref',
            'doc',
            'id',
            'created_at',
            'updated_at',
          ].includes(value);
          if (knownColumn) expect([200, 400]).toContain(byColumn.status);
          else expect(byColumn.status, JSON.stringify(value)).toBe(400);
          const byOperator = await owner.call(
            'GET',
            `${base}/tables/targets/rows?${q(`filter[label][${value}]`, '1')}`,
          );
          expect(byOperator.status, JSON.stringify(value)).toBe(
            value === 'eq' || value === 'ne' || value === 'like' ? 200 : 400,
          );
          const bySort = await owner.call('GET', `${base}/tables/targets/rows?${q('sort', value)}`);
          const validSort = ['label', 'n', 'amount', 'at', 'ref', 'id', 'created_at', 'updated_at'].includes(
            value.replace(/^-/, ''),
          );
          expect(bySort.status, JSON.stringify(value)).toBe(validSort ? 200 : 400);
          const byCursor = await owner.call('GET', `${base}/tables/targets/rows?${q('cursor', value)}`);
          expect(byCursor.status, JSON.stringify(value)).toBe(400);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('hostile values are stored and read back verbatim (text, jsonb), and found by an eq filter', async () => {
    await fc.assert(
      fc.asyncProperty(sendable, async (value) => {
        const row = expectStatus(
          await owner.call('POST', `${base}/tables/targets/rows`, { label: value, doc: { value } }),
          201,
        ).body as { id: string; label: string; doc: { value: string } };
        expect(row.label).toBe(value);
        expect(row.doc).toEqual({ value });
        const found = expectStatus(
          await owner.call(
            'GET',
            `${base}/tables/targets/rows?filter[label][eq]=${encodeURIComponent(value)}&filter[id][eq]=${row.id}`,
          ),
          200,
        ).body as { items: { id: string }[] };
        expect(found.items.map((r) => r.id)).toEqual([row.id]);
        expectStatus(await owner.call('DELETE', `${base}/tables/targets/rows/${row.id}`), 204);
      }),
      { numRuns: 40 },
    );
  });

  it('hostile typed values and defaults: 400 when they do not fit the type; text defaults round-trip as data', async () => {
    await fc.assert(
      fc.asyncProperty(sendable, fc.constantFrom('n', 'amount', 'at', 'ref'), async (value, column) => {
        const response = await owner.call('POST', `${base}/tables/targets/rows`, { [column]: value });
        if (response.status === 201) {
          expectStatus(
            await owner.call('DELETE', `${base}/tables/targets/rows/${(response.body as { id: string }).id}`),
            204,
          );
        } else {
          expect(response.status, `${column} ${JSON.stringify(value)}`).toBe(400);
        }
      }),
      { numRuns: 40 },
    );
    await fc.assert(
      fc.asyncProperty(sendable, async (value) => {
        const name = `d_${Math.random().toString(36).slice(2, 10)}`;
        const created = await owner.call('POST', `${base}/tables`, {
          name,
          columns: [{ name: 'v', type: 'text', default: value }],
        });
        expect(created.status, JSON.stringify(value)).toBe(201);
        const column = (created.body as { columns: { name: string; default?: unknown }[] }).columns.find(
          (c) => c.name === 'v',
        );
        expect(column?.default).toBe(value);
        const row = expectStatus(await owner.call('POST', `${base}/tables/${name}/rows`, {}), 201).body as {
          v: string;
        };
        expect(row.v).toBe(value);
        expectStatus(await owner.call('DELETE', `${base}/tables/${name}`), 204);
      }),
      { numRuns: 25 },
    );
  });
});
